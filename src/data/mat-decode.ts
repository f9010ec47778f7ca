/**
 * Decoding of the real part of a MAT-file numeric or char array, after
 * `mat-element.ts` has walked and bounds-checked the element and normalised
 * it to little-endian. Only data-type knowledge lives here; every length it
 * is given has already been checked against the bytes present.
 *
 * MATLAB stores a numeric array's values in the smallest data type that holds
 * them exactly, so the storage type of the data sub-element (miUINT8…) need
 * not match the array class (mxDOUBLE…): a double array of small whole
 * numbers is commonly stored as miUINT8 or miUINT16 (CWRU's RPM scalars are
 * mxDOUBLE in miUINT16). Values are therefore read by storage type and
 * widened to float64; they are not re-cast to the class.
 */
import { FaultlineError } from '../errors.js';

/** MATLAB array classes, indexed by the mxCLASS number in the array flags. */
export const MX_CLASSES = [
  'unknown',
  'cell',
  'struct',
  'object',
  'char',
  'sparse',
  'double',
  'single',
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'function',
  'opaque',
] as const;

/** A MATLAB array class name. */
export type MatClass = (typeof MX_CLASSES)[number];

/** MAT data types (the `type` of a data element tag). */
export const MI = {
  INT8: 1,
  UINT8: 2,
  INT16: 3,
  UINT16: 4,
  INT32: 5,
  UINT32: 6,
  SINGLE: 7,
  DOUBLE: 9,
  INT64: 12,
  UINT64: 13,
  MATRIX: 14,
  COMPRESSED: 15,
  UTF8: 16,
  UTF16: 17,
  UTF32: 18,
} as const;

/** Bytes per item of each fixed-width-item MAT data type; absent = not a data sub-element type. */
export const MI_SIZE: Readonly<Record<number, number>> = {
  [MI.INT8]: 1,
  [MI.UINT8]: 1,
  [MI.INT16]: 2,
  [MI.UINT16]: 2,
  [MI.INT32]: 4,
  [MI.UINT32]: 4,
  [MI.SINGLE]: 4,
  [MI.DOUBLE]: 8,
  [MI.INT64]: 8,
  [MI.UINT64]: 8,
  [MI.UTF8]: 1,
  [MI.UTF16]: 2,
  [MI.UTF32]: 4,
};

type NumericArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/** Typed array matching each numeric storage type. */
const NUMERIC_STORAGE: Readonly<Record<number, new (b: ArrayBuffer) => NumericArray>> = {
  [MI.INT8]: Int8Array,
  [MI.UINT8]: Uint8Array,
  [MI.INT16]: Int16Array,
  [MI.UINT16]: Uint16Array,
  [MI.INT32]: Int32Array,
  [MI.UINT32]: Uint32Array,
  [MI.SINGLE]: Float32Array,
  [MI.DOUBLE]: Float64Array,
  [MI.INT64]: BigInt64Array,
  [MI.UINT64]: BigUint64Array,
};

/** Storage types a char array may use: bytes (Latin-1), UTF-16 code units, UTF-8, UTF-32. */
const CHAR_STORAGE = new Set<number>([MI.INT8, MI.UINT8, MI.UINT16, MI.UTF8, MI.UTF16, MI.UTF32]);

/** Typed arrays use the host's byte order; the element bytes are little-endian by now. */
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** True when a real part of data type `type` can hold the values of a numeric (`char` = false) or char array. */
export function storageFits(type: number, char: boolean): boolean {
  return char ? CHAR_STORAGE.has(type) : type in NUMERIC_STORAGE;
}

/**
 * Copies `nbytes` of little-endian items of data type `type` from `bytes` at
 * `off` into a typed array of that type. The copy aligns the items and keeps
 * the result from pinning the (possibly large) file buffer.
 */
function copyItems(bytes: Uint8Array, type: number, off: number, nbytes: number): NumericArray {
  const raw = new Uint8Array(nbytes);
  raw.set(bytes.subarray(off, off + nbytes));
  const size = MI_SIZE[type];
  if (!HOST_LE && size > 1) {
    for (let p = 0; p < nbytes; p += size) raw.subarray(p, p + size).reverse();
  }
  return new NUMERIC_STORAGE[type](raw.buffer);
}

/**
 * Decodes the real part of a numeric array: `nbytes` bytes of data type
 * `type` at `off` in `bytes` (little-endian, length already checked against
 * the dimensions).
 *
 * @returns the values in MATLAB's column-major order, widened to float64
 *   (64-bit integers beyond ±2^53 round to the nearest double)
 */
export function decodeNumeric(
  bytes: Uint8Array,
  type: number,
  off: number,
  nbytes: number,
): Float64Array {
  const items = copyItems(bytes, type, off, nbytes);
  if (items instanceof Float64Array) return items;
  const out = new Float64Array(items.length);
  if (items instanceof BigInt64Array || items instanceof BigUint64Array) {
    for (let i = 0; i < items.length; i++) out[i] = Number(items[i]);
  } else {
    out.set(items);
  }
  return out;
}

/**
 * Decodes the real part of a char array of dimensions `dims` (stored
 * column-major, like every MATLAB array).
 *
 * @returns the text; a row or column vector as one string, a `rows×cols…`
 *   matrix as its rows joined by '\n' (trailing dimensions fold into columns)
 * @throws FaultlineError FL_ERR_MAT_FORMAT for invalid UTF-8/UTF-32 or a
 *   character count that does not match `dims`
 */
export function decodeChar(
  bytes: Uint8Array,
  type: number,
  off: number,
  nbytes: number,
  dims: readonly number[],
  label: string,
): string {
  const data = bytes.subarray(off, off + nbytes);
  let chars: string[];
  if (type === MI.UTF8) {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(data);
    } catch (err) {
      throw new FaultlineError(
        'FL_ERR_MAT_FORMAT',
        `${label}: char data is not valid UTF-8 (${(err as Error).message}); the file is corrupt`,
        { cause: err },
      );
    }
    // Count UTF-16 code units, as MATLAB's char dimensions do.
    chars = text.split('');
  } else if (type === MI.UTF32) {
    const units = new DataView(data.buffer, data.byteOffset, data.byteLength);
    chars = [];
    for (let p = 0; p < nbytes; p += 4) {
      const cp = units.getUint32(p, true);
      if (cp > 0x10ffff) {
        throw new FaultlineError(
          'FL_ERR_MAT_FORMAT',
          `${label}: char data holds 0x${cp.toString(16)}, beyond Unicode (max 0x10ffff); the file is corrupt`,
        );
      }
      chars.push(String.fromCodePoint(cp));
    }
  } else {
    // miINT8/miUINT8 bytes are Latin-1 codes; miUINT16/miUTF16 are UTF-16 code units.
    const units =
      MI_SIZE[type] === 1 ? data : (copyItems(bytes, MI.UINT16, off, nbytes) as Uint16Array);
    chars = Array.from(units, (u) => String.fromCharCode(u));
  }

  const count = dims.reduce((a, b) => a * b, 1);
  if (chars.length !== count) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${label}: char dimensions ${dims.join('x')} need ${count} characters but the data holds ${chars.length}`,
    );
  }
  const rows = dims[0] ?? 0;
  const isVector = dims.length === 2 && (rows <= 1 || dims[1] === 1);
  if (isVector) return chars.join('');
  const cols = count / rows;
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    let line = '';
    for (let c = 0; c < cols; c++) line += chars[r + c * rows];
    lines.push(line);
  }
  return lines.join('\n');
}
