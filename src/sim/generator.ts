/**
 * The synthetic bearing vibration generator: an acceleration signal in g from
 * a (condition, fault) pair, deterministic from a seed, generated chunk by
 * chunk with no seams (a live sensor simulator calls `next()` forever).
 *
 * Signal model (Randall & Antoni 2011; McFadden & Smith 1984):
 *
 *   x(t) = G · [ Σ_k A_k · Σ_r g_r e^(−ζ_r ω_r (t−t_k)) sin(ω_dr (t−t_k))   fault impacts ringing the modes
 *              + the same modes rung by random small impacts                rolling noise (all classes)
 *              + Σ_m a_m cos(2π m θ(t) + φ_m)                              shaft harmonics
 *              + σ n(t) ]                                                  broadband noise
 *
 * G is the sensor gain. The modes belong to the structure, so they stay put in
 * Hz when the speed changes; the impact rates and harmonics scale with speed.
 *
 * θ(t) is the shaft angle in revolutions, integrated from a speed that
 * fluctuates (fast jitter) and wanders (slow drift) around the nominal rpm, so
 * every line that follows the shaft (harmonics, fault rates) moves with it.
 * Impacts t_k advance by 1/order revolution each, times (1 + slip·N(0,1)): the
 * rolling elements slip, so the spacing jitters by about 1 % and the impact
 * train is a random walk around its mean rate, not a rigid comb. A_k carries
 * the fault's amplitude modulation (see faults.ts), the speed and load laws,
 * and a random impact-to-impact variation.
 *
 * How it stays cheap (hundreds of live sensors on one gateway): each mode is a
 * complex one-pole recursion s[n] = z·s[n−1] + injection, z = e^((−ζω + iωd)/fs),
 * so its cost per sample is one complex multiply however many impacts ring at
 * once, and an impact between two samples is injected exactly (its phase
 * e^((−ζω + iωd)·δ) at the first sample after it) rather than rounded to a
 * sample. Shaft harmonics come from a rotating phasor, not a cos() per sample.
 * The signal is rendered in fixed blocks of BLOCK samples counted from the
 * start, with the speed updated once per block; since block boundaries never
 * depend on how the caller chunks its requests, chunked and one-shot output
 * are bit-identical.
 */

import { type BearingFrequencies, bearingFrequencies } from '../contract/bearing.js';
import type { Recording } from '../types.js';
import { checkNumber, requireSim } from './check.js';
import { REFERENCE_RPM } from './conditions.js';
import { FAULT_LABELS, type FaultKinematics, faultKinematics, loadZoneFactor } from './faults.js';
import { resolveSimOptions, type SimConfig, type SimOptions } from './options.js';
import { Rng } from './rng.js';

/** Samples rendered per internal block; the speed is constant within a block. */
const BLOCK = 128;
/** Correlation time of the fast speed jitter, s. */
const JITTER_TAU_S = 0.05;
/** Correlation time of the slow speed drift, s. */
const DRIFT_TAU_S = 3;
/** Modes and harmonics at or above this fraction of the sample rate are left out (anti-alias filter). */
const ALIAS_LIMIT = 0.45;
/** Largest number of samples one `next()` call returns (512 MiB of float32). */
export const MAX_SIM_SAMPLES = 2 ** 27;

/** Independent random streams drawn from one seed (see Rng's `stream`). */
const STREAM = { noise: 1, slip: 2, amplitude: 3, speed: 4, phase: 5, rolling: 6 } as const;
/** Random rolling-noise impacts per block (≈ 1500/s at 12 kHz: they overlap into band noise). */
const ROLLING_PER_BLOCK = 16;

const TWO_PI = 2 * Math.PI;

/**
 * Stateful generator: `next(n)` returns the next n samples (g) of one endless
 * signal. Two generators built from equal options produce identical samples,
 * whatever the chunk sizes they are asked for.
 */
export class BearingSignalGenerator {
  /** The resolved options (frozen). */
  readonly config: SimConfig;
  /** Samples per second, Hz. */
  readonly sampleRate: number;
  /** Defect frequencies at the condition's nominal speed, Hz. */
  readonly frequencies: BearingFrequencies;
  /** Mean impact rate of the fault at nominal speed, Hz (BPFO, BPFI or 2·BSF; 0 for none). */
  readonly faultFrequencyHz: number;
  /** Natural frequencies of the modes actually simulated (below the anti-alias limit), Hz. */
  readonly activeResonancesHz: readonly number[];

  private readonly kin: FaultKinematics;
  private readonly fr0: number;
  private readonly impact: number;
  private readonly load: number;
  private readonly slip: number;
  private readonly noiseRms: number;
  private readonly gain: number;
  // Per mode: injection gain, decay and damped frequency per sample, pole z.
  private readonly modeGain: Float64Array;
  private readonly modeDecay: Float64Array;
  private readonly modeOmega: Float64Array;
  private readonly zRe: Float64Array;
  private readonly zIm: Float64Array;
  // Shaft harmonics m = 1..K as a·cos φ and a·sin φ.
  private readonly harmCos: Float64Array;
  private readonly harmSin: Float64Array;
  // OU speed processes: x ← a·x + b·N(0,1) once per block.
  private readonly jitA: number;
  private readonly jitB: number;
  private readonly driftA: number;
  private readonly driftB: number;

  private readonly noiseRng: Rng;
  private readonly slipRng: Rng;
  private readonly ampRng: Rng;
  private readonly speedRng: Rng;
  private readonly rollingRng: Rng;
  /** RMS amplitude of one rolling-noise impact, g (0: none). */
  private readonly rollingAmp: number;

  // Evolving state, carried from block to block.
  private jit: number;
  private drift: number;
  private shaftPhase: number;
  private modPhase: number;
  private toNextEvent: number;
  private eventCount = 0;
  private speedFactor = 1;
  private readonly resRe: Float64Array;
  private readonly resIm: Float64Array;
  private readonly carryRe: Float64Array;
  private readonly carryIm: Float64Array;

  // Scratch, allocated once.
  private readonly acc = new Float64Array(BLOCK);
  private readonly injRe: Float64Array;
  private readonly injIm: Float64Array;
  private readonly block = new Float32Array(BLOCK);
  private blockPos = BLOCK;
  private produced = 0;

  /** @throws FaultlineError FL_ERR_SIM_PARAMS on any invalid option */
  constructor(options: SimOptions = {}) {
    const config = resolveSimOptions(options);
    this.config = config;
    const { condition: c, sampleRate: fs, fault } = config;
    this.sampleRate = fs;
    this.frequencies = bearingFrequencies(config.bearing, c.rpm / 60);
    this.kin = faultKinematics(fault.type, this.frequencies);
    this.fr0 = c.rpm / 60;
    this.faultFrequencyHz = this.kin.eventOrder * this.fr0;
    requireSim(
      this.faultFrequencyHz * 10 <= fs,
      `a ${fault.type} fault at ${c.rpm} rpm strikes ${this.faultFrequencyHz.toFixed(1)} times a second, too often for ` +
        `${fs} Hz sampling; raise the sample rate to at least ${Math.ceil(this.faultFrequencyHz * 10)} Hz or lower the rpm`,
    );

    const modes = c.resonances.filter((r) => r.frequencyHz < ALIAS_LIMIT * fs);
    requireSim(
      fault.type === 'none' || modes.some((r) => r.gain > 0),
      `no resonance of condition "${c.name}" lies below ${ALIAS_LIMIT} × ${fs} Hz, so a ${fault.type} fault would be ` +
        'invisible; raise the sample rate or add a lower resonance',
    );
    this.activeResonancesHz = Object.freeze(modes.map((r) => r.frequencyHz));
    const R = modes.length;
    this.modeGain = new Float64Array(R);
    this.modeDecay = new Float64Array(R);
    this.modeOmega = new Float64Array(R);
    this.zRe = new Float64Array(R);
    this.zIm = new Float64Array(R);
    modes.forEach((m, r) => {
      const wn = (TWO_PI * m.frequencyHz) / fs;
      this.modeGain[r] = m.gain;
      this.modeDecay[r] = m.damping * wn;
      this.modeOmega[r] = wn * Math.sqrt(1 - m.damping * m.damping);
      const mag = Math.exp(-this.modeDecay[r]);
      this.zRe[r] = mag * Math.cos(this.modeOmega[r]);
      this.zIm[r] = mag * Math.sin(this.modeOmega[r]);
    });
    this.resRe = new Float64Array(R);
    this.resIm = new Float64Array(R);
    this.carryRe = new Float64Array(R);
    this.carryIm = new Float64Array(R);
    this.injRe = new Float64Array(R * BLOCK);
    this.injIm = new Float64Array(R * BLOCK);

    const phaseRng = new Rng(config.seed, STREAM.phase);
    let K = 0;
    while (K < c.harmonics.length && (K + 1) * this.fr0 < ALIAS_LIMIT * fs) K++;
    this.harmCos = new Float64Array(K);
    this.harmSin = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      const phi = TWO_PI * phaseRng.uniform();
      this.harmCos[k] = c.harmonics[k] * Math.cos(phi);
      this.harmSin[k] = c.harmonics[k] * Math.sin(phi);
    }
    // Where the shaft, the defect (inner: on the shaft; ball: in the cage) and
    // the first impact start: random, so recordings do not all begin alike.
    this.shaftPhase = phaseRng.uniform();
    this.modPhase = phaseRng.uniform();
    this.toNextEvent = phaseRng.uniform();

    this.impact =
      fault.severity * (c.rpm / REFERENCE_RPM) ** c.impactSpeedExponent * (1 + 0.5 * c.load);
    this.load = c.load;
    this.slip = c.slip;
    this.noiseRms = c.noiseRms;
    this.gain = c.sensorGain;

    // Exact discretisation of an Ornstein–Uhlenbeck process with std σ and
    // correlation time τ, stepped every BLOCK samples; started in its
    // stationary distribution so the first block is as random as the rest.
    const dt = BLOCK / fs;
    const aj = Math.exp(-dt / JITTER_TAU_S);
    const ad = Math.exp(-dt / DRIFT_TAU_S);
    this.jitA = aj;
    this.jitB = c.speedJitter * Math.sqrt(1 - aj * aj);
    this.driftA = ad;
    this.driftB = c.speedDrift * Math.sqrt(1 - ad * ad);
    this.speedRng = new Rng(config.seed, STREAM.speed);
    this.jit = c.speedJitter * this.speedRng.gaussian();
    this.drift = c.speedDrift * this.speedRng.gaussian();

    this.noiseRng = new Rng(config.seed, STREAM.noise);
    this.slipRng = new Rng(config.seed, STREAM.slip);
    this.ampRng = new Rng(config.seed, STREAM.amplitude);

    // Rolling noise: ROLLING_PER_BLOCK impacts of random amplitude A per block.
    // One impact through mode r carries Σ_n h_r[n]² = g_r²·b²/(4a(a² + b²))
    // (a, b: decay and damped frequency per sample), so the impact RMS that
    // gives the asked band RMS σ is σ / √(rate · Σ_r that).
    let energy = 0;
    for (let r = 0; r < R; r++) {
      const a = this.modeDecay[r];
      const b = this.modeOmega[r];
      energy += (this.modeGain[r] ** 2 * b * b) / (4 * a * (a * a + b * b));
    }
    this.rollingAmp =
      energy > 0 ? c.rollingNoiseRms / Math.sqrt((ROLLING_PER_BLOCK / BLOCK) * energy) : 0;
    this.rollingRng = new Rng(config.seed, STREAM.rolling);
  }

  /** Samples produced so far (the index of the next sample). */
  get position(): number {
    return this.produced;
  }

  /** Shaft speed of the block rendered last (nominal before the first), rpm. */
  get currentRpm(): number {
    return this.fr0 * this.speedFactor * 60;
  }

  /**
   * The next `nSamples` samples, g. Allocates the result; a streaming caller
   * that reuses its buffers calls {@link fill} instead.
   * @param nSamples integer in [0, MAX_SIM_SAMPLES]
   */
  next(nSamples: number): Float32Array {
    checkNumber('nSamples', nSamples, 0, MAX_SIM_SAMPLES, { integer: true });
    const out = new Float32Array(nSamples);
    this.fill(out);
    return out;
  }

  /**
   * Writes the next `end − start` samples (g) into `out[start..end)`, without
   * allocating, and returns `out`.
   */
  fill(out: Float32Array, start = 0, end = out.length): Float32Array {
    requireSim(out instanceof Float32Array, 'fill() needs a Float32Array');
    checkNumber('start', start, 0, out.length, { integer: true });
    checkNumber('end', end, start, out.length, { integer: true });
    let i = start;
    while (i < end) {
      if (this.blockPos === BLOCK) {
        if (end - i >= BLOCK) {
          // Whole block fits: render straight into the caller's buffer.
          this.render(out, i);
          i += BLOCK;
          this.produced += BLOCK;
          continue;
        }
        this.render(this.block, 0);
        this.blockPos = 0;
      }
      const n = Math.min(end - i, BLOCK - this.blockPos);
      const src = this.block;
      for (let j = 0; j < n; j++) out[i + j] = src[this.blockPos + j];
      this.blockPos += n;
      i += n;
      this.produced += n;
    }
    return out;
  }

  /** Renders the next BLOCK samples into `out[offset..offset+BLOCK)`. */
  private render(out: Float32Array, offset: number): void {
    const acc = this.acc;
    const R = this.modeGain.length;

    // Speed for this block: nominal × (1 + jitter + drift), never below half.
    this.jit = this.jit * this.jitA + this.jitB * this.speedRng.gaussian();
    this.drift = this.drift * this.driftA + this.driftB * this.speedRng.gaussian();
    const factor = Math.max(0.5, 1 + this.jit + this.drift);
    this.speedFactor = factor;
    const dphi = (this.fr0 * factor) / this.sampleRate; // shaft revolutions per sample

    if (this.noiseRms > 0) this.noiseRng.fillGaussian(acc, this.noiseRms);
    else acc.fill(0);

    if (R > 0 && (this.kin.eventOrder > 0 || this.rollingAmp > 0)) {
      const injRe = this.injRe;
      const injIm = this.injIm;
      injRe.fill(0);
      injIm.fill(0);
      for (let r = 0; r < R; r++) {
        injRe[r * BLOCK] = this.carryRe[r];
        injIm[r * BLOCK] = this.carryIm[r];
        this.carryRe[r] = 0;
        this.carryIm[r] = 0;
      }
      this.scheduleImpacts(dphi);
      if (this.rollingAmp > 0) this.addRollingNoise();
      for (let r = 0; r < R; r++) {
        const base = r * BLOCK;
        const st = ringMode(
          acc,
          this.zRe[r],
          this.zIm[r],
          this.resRe[r],
          this.resIm[r],
          injRe,
          injIm,
          base,
        );
        this.resRe[r] = st;
        this.resIm[r] = ringImag;
      }
    }

    if (this.harmCos.length > 0) {
      const theta = TWO_PI * this.shaftPhase;
      addHarmonics(
        acc,
        this.harmCos,
        this.harmSin,
        Math.cos(theta),
        Math.sin(theta),
        TWO_PI * dphi,
      );
    }

    scaleInto(out, offset, acc, this.gain);

    // Phases kept in [0, 1) so their precision does not decay over hours.
    this.shaftPhase = (this.shaftPhase + dphi * BLOCK) % 1;
    this.modPhase = (this.modPhase + this.kin.modulationOrder * dphi * BLOCK) % 1;
  }

  /**
   * Adds this block's rolling-noise impacts. They are random, so on-sample
   * timing is good enough: an injection (A·g_r, 0) starts the ring at phase 0
   * with no exp/cos/sin per impact.
   */
  private addRollingNoise(): void {
    const R = this.modeGain.length;
    const rng = this.rollingRng;
    for (let j = 0; j < ROLLING_PER_BLOCK; j++) {
      const n = rng.nextUint32() & (BLOCK - 1);
      const a = this.rollingAmp * rng.gaussian();
      for (let r = 0; r < R; r++) this.injRe[r * BLOCK + n] += a * this.modeGain[r];
    }
  }

  /**
   * Places this block's impacts: each one becomes, per mode, a complex
   * injection at the first sample at or after it, carrying the phase the mode
   * has rung up by then, so sub-sample timing is exact.
   */
  private scheduleImpacts(dphi: number): void {
    const kin = this.kin;
    if (kin.eventOrder === 0) return;
    const cyclesPerSample = kin.eventOrder * dphi;
    const cyclesInBlock = cyclesPerSample * BLOCK;
    const R = this.modeGain.length;
    while (this.toNextEvent < cyclesInBlock) {
      const p = this.toNextEvent / cyclesPerSample; // impact position in samples, [0, BLOCK)
      let amp = this.impact;
      if (kin.modulationOrder > 0) {
        const phase = this.modPhase + kin.modulationOrder * dphi * p;
        amp *= loadZoneFactor(TWO_PI * phase, this.load);
      }
      if ((this.eventCount & 1) === 1) amp *= kin.alternateImpactRatio;
      amp *= Math.max(0, 1 + kin.amplitudeJitter * this.ampRng.gaussian());
      const n0 = Math.ceil(p);
      const d = n0 - p;
      for (let r = 0; r < R; r++) {
        const mag = amp * this.modeGain[r] * Math.exp(-this.modeDecay[r] * d);
        const re = mag * Math.cos(this.modeOmega[r] * d);
        const im = mag * Math.sin(this.modeOmega[r] * d);
        if (n0 < BLOCK) {
          this.injRe[r * BLOCK + n0] += re;
          this.injIm[r * BLOCK + n0] += im;
        } else {
          this.carryRe[r] += re;
          this.carryIm[r] += im;
        }
      }
      this.eventCount++;
      // Slip: the next spacing is 1 ± slip cycles (clamped so time never runs backwards).
      this.toNextEvent += Math.max(0.5, 1 + this.slip * this.slipRng.gaussian());
    }
    this.toNextEvent -= cyclesInBlock;
  }
}

/** Imaginary part of the state `ringMode` ended on (a second return value without allocating). */
let ringImag = 0;

/**
 * Runs one mode over a block: s[n] = z·s[n−1] + inj[n], acc[n] += Im s[n].
 * Returns the final real part; the final imaginary part is left in `ringImag`.
 */
function ringMode(
  acc: Float64Array,
  zr: number,
  zi: number,
  sr0: number,
  si0: number,
  injRe: Float64Array,
  injIm: Float64Array,
  base: number,
): number {
  let sr = sr0;
  let si = si0;
  const n = acc.length;
  for (let i = 0; i < n; i++) {
    const nr = zr * sr - zi * si + injRe[base + i];
    si = zr * si + zi * sr + injIm[base + i];
    sr = nr;
    acc[i] += si;
  }
  ringImag = si;
  return sr;
}

/**
 * Adds Σ_m (hc[m]·cos((m+1)θ) − hs[m]·sin((m+1)θ)) to acc, θ starting at the
 * angle whose cos/sin are (c, s) and growing by `dTheta` rad per sample. cos
 * and sin of m·θ come from complex powers of e^(iθ), e^(iθ) from a rotating
 * phasor: no trigonometric call per sample.
 */
function addHarmonics(
  acc: Float64Array,
  hc: Float64Array,
  hs: Float64Array,
  c0: number,
  s0: number,
  dTheta: number,
): void {
  const K = hc.length;
  const rc = Math.cos(dTheta);
  const rs = Math.sin(dTheta);
  let c = c0;
  let s = s0;
  const n = acc.length;
  for (let i = 0; i < n; i++) {
    let ck = c;
    let sk = s;
    let v = hc[0] * ck - hs[0] * sk;
    for (let k = 1; k < K; k++) {
      const t = ck * c - sk * s;
      sk = sk * c + ck * s;
      ck = t;
      v += hc[k] * ck - hs[k] * sk;
    }
    acc[i] += v;
    const t = c * rc - s * rs;
    s = s * rc + c * rs;
    c = t;
  }
}

/** out[offset + i] = acc[i] · gain (rounded to float32). */
function scaleInto(out: Float32Array, offset: number, acc: Float64Array, gain: number): void {
  const n = acc.length;
  for (let i = 0; i < n; i++) out[offset + i] = acc[i] * gain;
}

/**
 * One-shot generation: `nSamples` samples (g) of the signal `options` describe.
 * Identical to the first `nSamples` of a {@link BearingSignalGenerator} built
 * from the same options.
 */
export function generateBearingSignal(options: SimOptions, nSamples: number): Float32Array {
  return new BearingSignalGenerator(options).next(nSamples);
}

/**
 * A simulated {@link Recording} of `durationS` seconds, labelled like the
 * data-set manifests (`normal`, `inner`, `outer`, `ball`) with the condition
 * name as its domain.
 */
export function simulateRecording(options: SimOptions, durationS: number): Recording {
  const gen = new BearingSignalGenerator(options);
  const { config } = gen;
  checkNumber('durationS', durationS, 0, MAX_SIM_SAMPLES / config.sampleRate, {
    minExclusive: true,
  });
  const n = Math.max(1, Math.round(durationS * config.sampleRate));
  const samples = gen.next(n);
  const label = FAULT_LABELS[config.fault.type];
  return {
    id: `sim:${config.condition.name}/${label}/seed${config.seed}`,
    label,
    domain: config.condition.name,
    sampleRate: config.sampleRate,
    samples,
    rpm: config.condition.rpm,
    meta: {
      source: 'simulator',
      fault: config.fault.type,
      severityG: config.fault.severity,
      seed: config.seed,
      condition: config.condition.name,
      faultFrequencyHz: gen.faultFrequencyHz,
    },
  };
}
