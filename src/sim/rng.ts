/**
 * Seeded pseudo-random numbers for the simulator.
 *
 * Why not `Math.random`: a simulated recording must be reproducible from its
 * seed alone (tests, data sets, bug reports), and `Math.random` cannot be
 * seeded. The generator is xoshiro128** (Blackman & Vigna, 2018): 128-bit
 * state, 32-bit output, passes BigCrush, and needs only 32-bit integer
 * arithmetic, which JS does exactly with `Math.imul` and `>>> 0`. The state is
 * filled from the seed by splitmix32 so that nearby seeds (1, 2, 3…) give
 * unrelated streams and the all-zero state (a fixed point) cannot occur.
 */

/** splitmix32 step: returns the next mixed 32-bit word for `x` (uint32). */
function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** 2^-32: turns a uint32 into a float in [0, 1). */
const INV_2_32 = 1 / 4294967296;

/**
 * xoshiro128** generator with Gaussian deviates (Marsaglia's polar form of
 * Box–Muller: no trigonometry, one log and one sqrt per pair of deviates).
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** Second deviate of the last polar pair, used by the next `gaussian()` call. */
  private spare = 0;
  private hasSpare = false;

  /**
   * @param seed any finite number; its integer part (mod 2^32) selects the stream
   * @param stream sub-stream index, so independent processes (noise, slip,
   *   speed…) drawn from one seed do not share values and changing how many
   *   numbers one process draws does not shift the others
   */
  constructor(seed: number, stream = 0) {
    let x = (Math.trunc(seed) >>> 0) ^ Math.imul(stream >>> 0, 0x632be5ab);
    x = splitmix32(x);
    this.s0 = x;
    x = splitmix32(x);
    this.s1 = x;
    x = splitmix32(x);
    this.s2 = x;
    x = splitmix32(x);
    this.s3 = x;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /**
   * A generator with the exact state `[s0, s1, s2, s3]` (uint32 each), for
   * checking against the reference C implementation's test vectors.
   */
  static fromState(s0: number, s1: number, s2: number, s3: number): Rng {
    const r = new Rng(0);
    r.s0 = s0 >>> 0;
    r.s1 = s1 >>> 0;
    r.s2 = s2 >>> 0;
    r.s3 = s3 >>> 0;
    return r;
  }

  /** Next uint32 in [0, 2^32). */
  nextUint32(): number {
    const s1 = this.s1;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /** Uniform float in [0, 1) with 32 random bits. */
  uniform(): number {
    return this.nextUint32() * INV_2_32;
  }

  /** Standard normal deviate N(0, 1). */
  gaussian(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = this.nextUint32() * INV_2_32 * 2 - 1;
      v = this.nextUint32() * INV_2_32 * 2 - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * f;
    this.hasSpare = true;
    return u * f;
  }

  /**
   * Fills `out[start..end)` with N(0, sigma²) deviates: the hot path of the
   * simulator's broadband noise. Uses the ziggurat method (Marsaglia & Tsang
   * 2000, 128 layers) on this generator's 32-bit outputs: ~99 % of deviates
   * cost one draw, one table look-up and one multiply, about four times
   * cheaper than the polar method. The xoshiro128** step is inlined on local
   * copies of the state. Not the same sequence as repeated `gaussian()` calls.
   */
  fillGaussian(out: Float64Array, sigma: number, start = 0, end = out.length): void {
    const { kn, wn } = ZIGGURAT;
    let s0 = this.s0;
    let s1 = this.s1;
    let s2 = this.s2;
    let s3 = this.s3;
    for (let i = start; i < end; i++) {
      const m = Math.imul(s1, 5);
      const t = s1 << 9;
      const hz = Math.imul((m << 7) | (m >>> 25), 9); // int32
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      const iz = hz & 127;
      if (Math.abs(hz) < kn[iz]) {
        out[i] = hz * wn[iz] * sigma;
      } else {
        // Rare slow path (≈1 %): hand the state back, take the exact tail/wedge draw.
        this.s0 = s0;
        this.s1 = s1;
        this.s2 = s2;
        this.s3 = s3;
        out[i] = this.zigguratFix(hz, iz) * sigma;
        s0 = this.s0;
        s1 = this.s1;
        s2 = this.s2;
        s3 = this.s3;
      }
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }

  /** Ziggurat slow path: a draw `hz` in layer `iz` that fell outside the layer's core. */
  private zigguratFix(hz0: number, iz0: number): number {
    const { kn, wn, fn } = ZIGGURAT;
    let hz = hz0;
    let iz = iz0;
    for (;;) {
      const x = hz * wn[iz];
      if (iz === 0) {
        // Base layer: sample the tail beyond R exactly (Marsaglia 1964).
        let tx: number;
        let ty: number;
        do {
          tx = -Math.log(1 - this.uniform()) / ZIGGURAT_R;
          ty = -Math.log(1 - this.uniform());
        } while (ty + ty < tx * tx);
        return hz > 0 ? ZIGGURAT_R + tx : -ZIGGURAT_R - tx;
      }
      if (fn[iz] + this.uniform() * (fn[iz - 1] - fn[iz]) < Math.exp(-0.5 * x * x)) return x;
      hz = this.nextUint32() | 0;
      iz = hz & 127;
      if (Math.abs(hz) < kn[iz]) return hz * wn[iz];
    }
  }
}

/** Right edge of the ziggurat's base strip for 128 layers. */
const ZIGGURAT_R = 3.442619855899;

/**
 * Ziggurat tables for N(0, 1) with 128 layers, built once (Marsaglia & Tsang
 * 2000, "The Ziggurat Method for Generating Random Variables", JSS 5(8)):
 * kn = acceptance thresholds on |int32|, wn = layer widths / 2^31, fn = pdf at
 * the layer edges.
 */
const ZIGGURAT = (() => {
  const m1 = 2147483648;
  const vn = 9.91256303526217e-3;
  const kn = new Float64Array(128);
  const wn = new Float64Array(128);
  const fn = new Float64Array(128);
  let dn = ZIGGURAT_R;
  let tn = dn;
  const q = vn / Math.exp(-0.5 * dn * dn);
  kn[0] = (dn / q) * m1;
  kn[1] = 0;
  wn[0] = q / m1;
  wn[127] = dn / m1;
  fn[0] = 1;
  fn[127] = Math.exp(-0.5 * dn * dn);
  for (let i = 126; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(vn / dn + Math.exp(-0.5 * dn * dn)));
    kn[i + 1] = (dn / tn) * m1;
    tn = dn;
    fn[i] = Math.exp(-0.5 * dn * dn);
    wn[i] = dn / m1;
  }
  return { kn, wn, fn };
})();
