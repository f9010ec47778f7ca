/**
 * Reader for NumPy `.npy` files (format versions 1.0, 2.0, 3.0), limited to
 * what vibration recordings use: little-endian float32/float64/int16/int32,
 * 1-D `(n,)` or 2-D C-order `(n, channels)`. Written here because the npm
 * readers found are unmaintained or browser-only; the format is small:
 *
 *   0   6 B  magic  \x93 N U M P Y
 *   6   1 B  major version (1, 2 or 3)
 *   7   1 B  minor version
 *   8   2 B  header length HLEN, uint16 LE (v1) — or 4 B uint32 LE (v2, v3)
 *   10/12    header: a Python dict literal, e.g.
 *            {'descr': '<f8', 'fortran_order': False, 'shape': (1000, 2), }
 *            padded with spaces and a final '\n'
 *   …        raw data, prod(shape) × itemsize bytes
 */
import { FaultlineError } from '../errors.js';

export type NpyDtype = '<f4' | '<f8' | '<i2' | '<i4';

export interface NpyArray {
  dtype: NpyDtype;
  /** `[n]` or `[n, channels]`. */
  shape: number[];
  /** Values in C order (row-major: `data[i * channels + c]`). */
  data: Float32Array | Float64Array | Int16Array | Int32Array;
}

const ITEM: Record<NpyDtype, number> = { '<f4': 4, '<f8': 8, '<i2': 2, '<i4': 4 };
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/**
 * Parses `.npy` bytes.
 * @param label file name for error messages
 * @throws FaultlineError FL_ERR_NPY_FORMAT for a bad magic/header, unsupported dtype,
 *   Fortran order, more than 2 dimensions, or data shorter than the shape says
 */
export function parseNpy(bytes: Uint8Array, label = '.npy buffer'): NpyArray {
  const fail = (msg: string): never => {
    throw new FaultlineError('FL_ERR_NPY_FORMAT', `${label}: ${msg}`);
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    fail('does not start with the .npy magic "\\x93NUMPY"; save it with numpy.save');
  }
  const major = bytes[6];
  if (major < 1 || major > 3) fail(`.npy format version ${major}.${bytes[7]} is not 1, 2 or 3`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) fail('file ends inside the header');
  const hlen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lenBytes + hlen;
  if (dataStart > bytes.length) fail(`header declares ${hlen} bytes but the file ends first`);
  const header = Buffer.from(bytes.subarray(8 + lenBytes, dataStart)).toString(
    major === 3 ? 'utf8' : 'latin1',
  );

  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    return fail(`header ${JSON.stringify(header.trim())} lacks descr, fortran_order or shape`);
  }
  if (!(descr in ITEM)) {
    return fail(
      `dtype '${descr}' is not supported; convert with arr.astype('<f4') (supported: ${Object.keys(ITEM).join(', ')})`,
    );
  }
  const dtype = descr as NpyDtype;
  if (fortran === 'True')
    fail('Fortran-order arrays are not supported; save np.ascontiguousarray(arr)');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => (/^\d+$/.test(s) ? Number(s) : fail(`bad shape entry '${s}'`)));
  if (shape.length < 1 || shape.length > 2) {
    fail(
      `shape (${shapeText}) has ${shape.length} dimensions; 1-D (n,) or 2-D (n, channels) needed`,
    );
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const nbytes = count * ITEM[dtype];
  if (dataStart + nbytes > bytes.length) {
    fail(
      `shape (${shapeText}) of ${descr} needs ${nbytes} data bytes but ${bytes.length - dataStart} remain; the file is truncated`,
    );
  }
  // Copy into a fresh buffer: the data offset need not be aligned for typed arrays, and
  // `new Uint8Array(view)` copies where Buffer#slice would not. Typed arrays read in the
  // host's byte order, little-endian on every platform Node supports.
  const buf = new Uint8Array(bytes.subarray(dataStart, dataStart + nbytes)).buffer;
  const data =
    dtype === '<f4'
      ? new Float32Array(buf)
      : dtype === '<f8'
        ? new Float64Array(buf)
        : dtype === '<i2'
          ? new Int16Array(buf)
          : new Int32Array(buf);
  return { dtype, shape, data };
}
