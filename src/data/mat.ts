/**
 * MATLAB level-5 MAT-file reader (the format of the CWRU bearing files).
 *
 * Decoding is done by `mat-for-js`, but that library trusts every length in
 * the file: a truncated or crafted file makes it read past the end, loop on a
 * zero-length element or build arrays from absurd dimensions. So this module
 * first walks the whole file itself — header, every top-level element tag,
 * and for numeric/char variables the flags, dimensions, name and data
 * sub-elements — checking each declared size against the bytes really present.
 * Only then does it hand the library one validated, uncompressed,
 * little-endian variable at a time. Big-endian ('MI') files are byte-swapped
 * to little-endian during that walk, because the library mis-reads the small
 * (4-byte) element tags of big-endian files.
 *
 * Layout (MathWorks "MAT-File Format", level 5):
 *
 *   0    116 B  descriptive text, starts 'MATLAB 5.0 MAT-file'
 *   116    8 B  subsystem data offset
 *   124    2 B  version 0x0100
 *   126    2 B  endian indicator 'IM' (little-endian) or 'MI' (big-endian)
 *   128  …      data elements: tag (8 B: type u32, nbytes u32; or 4 B "small"
 *               form with nbytes ≤ 4 in the upper half of the first word),
 *               data, padding to 8 B. Top level: miMATRIX (14) or
 *               miCOMPRESSED (15, zlib stream holding one miMATRIX).
 *   miMATRIX  = flags (miUINT32 ×2) · dims (miINT32 ×n) · name (miINT8) ·
 *               real part · [imaginary part]   (numeric and char classes)
 */
import { readFile } from 'node:fs/promises';
import { inflateSync } from 'node:zlib';
import { read as libRead } from 'mat-for-js';
import { FaultlineError } from '../errors.js';

/** MATLAB array classes, indexed by the mxCLASS number in the array flags. */
const MX_CLASSES = [
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

export type MatClass = (typeof MX_CLASSES)[number];

/** Bytes per item of each MAT data type (miINT8 = 1 … miUTF32 = 18); 0 = not a fixed-width type. */
const MI_SIZE: Record<number, number> = {
  1: 1,
  2: 1,
  3: 2,
  4: 2,
  5: 4,
  6: 4,
  7: 4,
  9: 8,
  12: 8,
  13: 8,
  16: 1,
  17: 2,
  18: 4,
};
const MI_INT8 = 1;
const MI_UINT8 = 2;
const MI_UINT16 = 4;
const MI_INT32 = 5;
const MI_UINT32 = 6;
const MI_MATRIX = 14;
const MI_COMPRESSED = 15;
const MI_UTF8 = 16;
const NUMERIC_TYPES = new Set([1, 2, 3, 4, 5, 6, 7, 9, 12, 13]);
/** Char data types the library decodes correctly (its UTF-16/32 paths are broken). */
const CHAR_TYPES = new Set([MI_INT8, MI_UINT8, MI_UINT16, MI_UTF8]);

const HEADER_BYTES = 128;
const HEADER_TEXT = 'MATLAB 5.0 MAT-file';

/** One variable of a MAT-file. */
export interface MatVariable {
  name: string;
  mxClass: MatClass;
  /** MATLAB dimensions as stored, e.g. `[121265, 1]` for a column vector. */
  dims: number[];
  /** True when the values were decoded (real numeric and char arrays); false for cell, struct, sparse, complex… */
  decoded: boolean;
  /** Real numeric values in MATLAB's column-major order, length = product of dims. */
  data?: Float64Array;
  /** Text of a char array; the rows of a multi-row char matrix joined by '\n'. */
  text?: string;
}

export interface ReadMatOptions {
  /** Decode only these variables (others are still bounds-checked and listed, undecoded). Default: all. */
  variables?: readonly string[];
  /** Largest inflated size accepted for one compressed variable, bytes. Default 512 MiB. */
  maxInflatedBytes?: number;
  /** Name used in error messages when `src` is a buffer. */
  label?: string;
}

/**
 * Reads a MAT-file from a path or from its bytes.
 *
 * @returns every top-level variable by name, in file order
 * @throws FaultlineError FL_ERR_MAT_FORMAT (not a level-5 MAT-file, corrupt or
 *   inconsistent element), FL_ERR_MAT_TRUNCATED (ends before its declared
 *   contents), FL_ERR_DATASET_FILE (the path cannot be read)
 */
export async function readMat(
  src: string | Uint8Array,
  options: ReadMatOptions = {},
): Promise<Map<string, MatVariable>> {
  if (typeof src !== 'string') return parseMat(src, options);
  let bytes: Buffer;
  try {
    bytes = await readFile(src);
  } catch (err) {
    throw new FaultlineError(
      'FL_ERR_DATASET_FILE',
      `cannot read MAT-file ${src}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return parseMat(bytes, { label: src, ...options });
}

/** Synchronous core of {@link readMat} over the file's bytes. */
export function parseMat(
  bytes: Uint8Array,
  options: ReadMatOptions = {},
): Map<string, MatVariable> {
  const label = options.label ?? 'MAT-file buffer';
  const le = checkHeader(bytes, label);
  const wanted = options.variables ? new Set(options.variables) : undefined;
  const maxInflated = options.maxInflatedBytes ?? 512 * 1024 * 1024;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Map<string, MatVariable>();

  let off = HEADER_BYTES;
  let index = 0;
  while (off < bytes.length) {
    const where = `${label}: variable #${index} at byte ${off}`;
    if (bytes.length - off < 8) {
      throw new FaultlineError(
        'FL_ERR_MAT_TRUNCATED',
        `${where}: only ${bytes.length - off} bytes left, a data element tag needs 8; the file is cut short — fetch it again`,
      );
    }
    const type = view.getUint32(off, le);
    const nbytes = view.getUint32(off + 4, le);
    const dataStart = off + 8;
    if (type !== MI_MATRIX && type !== MI_COMPRESSED) {
      throw new FaultlineError(
        'FL_ERR_MAT_FORMAT',
        `${where}: top-level element type ${type} is neither miMATRIX (14) nor miCOMPRESSED (15); the file is corrupt`,
      );
    }
    if (nbytes > bytes.length - dataStart) {
      throw new FaultlineError(
        'FL_ERR_MAT_TRUNCATED',
        `${where}: element declares ${nbytes} bytes but only ${bytes.length - dataStart} remain; the file is cut short — fetch it again`,
      );
    }
    // Uncompressed elements are padded to 8 bytes; tolerate a missing pad at end of file.
    const next = type === MI_MATRIX ? dataStart + pad8(nbytes) : dataStart + nbytes;

    // The uncompressed element, tag included. The walk below rewrites a
    // big-endian element to little-endian in place, so that needs a private
    // copy; a little-endian one is only read, so a view of the input will do.
    let element: Uint8Array;
    if (type === MI_COMPRESSED) {
      element = inflateElement(bytes.subarray(dataStart, dataStart + nbytes), maxInflated, where);
    } else {
      // (`new Uint8Array(view)` copies; Buffer#slice would not.)
      const view = bytes.subarray(off, dataStart + nbytes);
      element = le ? view : new Uint8Array(view);
    }
    const variable = decodeTopLevel(element, le, where, wanted);
    if (variable) out.set(variable.name, variable);
    off = next;
    index++;
  }
  return out;
}

/**
 * Returns the named variable as a real numeric vector (any `n×1`, `1×n` or
 * `n`-element array), e.g. a CWRU channel.
 * @throws FaultlineError FL_ERR_MAT_VARIABLE when missing, undecoded or not a vector
 */
export function matVector(
  vars: Map<string, MatVariable>,
  name: string,
  file: string,
): Float64Array {
  const v = vars.get(name);
  if (!v) {
    const have = [...vars.keys()].join(', ') || 'none';
    throw new FaultlineError(
      'FL_ERR_MAT_VARIABLE',
      `${file} has no variable '${name}' (it holds: ${have}); name one of those`,
    );
  }
  const nonUnit = v.dims.filter((d) => d !== 1).length;
  if (!v.data || nonUnit > 1) {
    throw new FaultlineError(
      'FL_ERR_MAT_VARIABLE',
      `${file}: variable '${name}' is a ${v.dims.join('x')} ${v.mxClass} array${v.decoded ? '' : ' (not decoded)'}; a real numeric vector is needed`,
    );
  }
  return v.data;
}

/** Returns the named variable as a real numeric scalar (e.g. CWRU's `X105RPM`). */
export function matScalar(vars: Map<string, MatVariable>, name: string, file: string): number {
  const data = matVector(vars, name, file);
  if (data.length !== 1) {
    throw new FaultlineError(
      'FL_ERR_MAT_VARIABLE',
      `${file}: variable '${name}' has ${data.length} elements; a scalar is needed`,
    );
  }
  return data[0];
}

// ── header ──────────────────────────────────────────────────────────────────

/** Validates the 128-byte header; returns true for a little-endian file. */
function checkHeader(bytes: Uint8Array, label: string): boolean {
  if (bytes.length === 0) {
    throw new FaultlineError('FL_ERR_MAT_FORMAT', `${label} is empty (0 bytes), not a MAT-file`);
  }
  const text = Buffer.from(bytes.subarray(0, Math.min(bytes.length, 116))).toString('latin1');
  const prefix = text.slice(0, HEADER_TEXT.length);
  if (text.startsWith('MATLAB 7.3 MAT-file')) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${label} is a MATLAB v7.3 (HDF5) MAT-file, which is not supported; re-save it with save(..., '-v7')`,
    );
  }
  if (prefix !== HEADER_TEXT.slice(0, prefix.length)) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${label} does not start with '${HEADER_TEXT}' (found ${JSON.stringify(prefix.replace(/[^\x20-\x7e]/g, '?'))}); it is not a MATLAB level-5 MAT-file`,
    );
  }
  if (bytes.length < HEADER_BYTES) {
    throw new FaultlineError(
      'FL_ERR_MAT_TRUNCATED',
      `${label} has ${bytes.length} bytes, fewer than the 128-byte MAT-file header; the file is cut short`,
    );
  }
  const endian = String.fromCharCode(bytes[126], bytes[127]);
  if (endian !== 'IM' && endian !== 'MI') {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${label}: endian indicator is ${JSON.stringify(endian)}, expected 'IM' or 'MI'; not a level-5 MAT-file`,
    );
  }
  const le = endian === 'IM';
  const version = new DataView(bytes.buffer, bytes.byteOffset + 124, 2).getUint16(0, le);
  if (version !== 0x0100) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${label}: version 0x${version.toString(16).padStart(4, '0')} in the header, expected 0x0100 (level 5)`,
    );
  }
  return le;
}

function inflateElement(compressed: Uint8Array, maxBytes: number, where: string): Uint8Array {
  let plain: Buffer;
  try {
    plain = inflateSync(compressed, { maxOutputLength: maxBytes });
  } catch (err) {
    const msg = (err as Error).message;
    const code = /unexpected end/i.test(msg) ? 'FL_ERR_MAT_TRUNCATED' : 'FL_ERR_MAT_FORMAT';
    throw new FaultlineError(code, `${where}: compressed element cannot be inflated (${msg})`, {
      cause: err,
    });
  }
  return new Uint8Array(plain.buffer, plain.byteOffset, plain.byteLength);
}

// ── element walk ────────────────────────────────────────────────────────────

interface Tag {
  type: number;
  nbytes: number;
  /** Offset of the element's data. */
  data: number;
  /** Offset just past the element, padding included. */
  end: number;
}

/**
 * Reads a tag at `off` within `[off, limit)` and, for a big-endian source,
 * rewrites it in place as little-endian (same form, same size).
 */
function tagAt(
  v: DataView,
  off: number,
  limit: number,
  le: boolean,
  what: string,
  where: string,
): Tag {
  if (limit - off < 8) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${where}: ${what} tag at element byte ${off} runs past its enclosing element`,
    );
  }
  const word = v.getUint32(off, le);
  let tag: Tag;
  if (word >>> 16 !== 0) {
    // Small data element: nbytes (≤ 4) in the upper half, data in the next 4 bytes.
    tag = { type: word & 0xffff, nbytes: word >>> 16, data: off + 4, end: off + 8 };
    if (tag.nbytes > 4) {
      throw new FaultlineError(
        'FL_ERR_MAT_FORMAT',
        `${where}: ${what} is a small element declaring ${tag.nbytes} bytes (at most 4 allowed)`,
      );
    }
    if (!le) v.setUint32(off, word, true);
  } else {
    const nbytes = v.getUint32(off + 4, le);
    tag = { type: word, nbytes, data: off + 8, end: off + 8 + pad8(nbytes) };
    if (nbytes > limit - off - 8) {
      throw new FaultlineError(
        'FL_ERR_MAT_FORMAT',
        `${where}: ${what} declares ${nbytes} bytes but its enclosing element has ${limit - off - 8} left`,
      );
    }
    tag.end = Math.min(tag.end, limit);
    if (!le) {
      v.setUint32(off, word, true);
      v.setUint32(off + 4, nbytes, true);
    }
  }
  return tag;
}

/** Byte-swaps `nbytes` of items of `size` bytes at `off`, in place. */
function swapItems(bytes: Uint8Array, off: number, nbytes: number, size: number): void {
  if (size <= 1) return;
  for (let p = off; p + size <= off + nbytes; p += size) {
    bytes.subarray(p, p + size).reverse();
  }
}

/** Reads (and for big-endian, swaps) a fixed-width data sub-element, returning its tag. */
function leaf(
  bytes: Uint8Array,
  v: DataView,
  off: number,
  limit: number,
  le: boolean,
  what: string,
  where: string,
): Tag {
  const tag = tagAt(v, off, limit, le, what, where);
  const size = MI_SIZE[tag.type];
  if (size === undefined) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${where}: ${what} has unknown data type ${tag.type}`,
    );
  }
  if (tag.nbytes % size !== 0) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${where}: ${what} holds ${tag.nbytes} bytes, not a whole number of ${size}-byte items`,
    );
  }
  if (!le) swapItems(bytes, tag.data, tag.nbytes, size);
  return tag;
}

/**
 * Validates one top-level miMATRIX element (`element` = tag + data, a private
 * copy that is normalised to little-endian in place) and decodes it when it is
 * a real numeric or char array that the caller wants.
 */
function decodeTopLevel(
  element: Uint8Array,
  le: boolean,
  where: string,
  wanted: Set<string> | undefined,
): MatVariable | undefined {
  const v = new DataView(element.buffer, element.byteOffset, element.byteLength);
  const top = tagAt(v, 0, element.length, le, 'variable', where);
  if (top.type !== MI_MATRIX) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${where}: element type ${top.type} inside a compressed element, expected miMATRIX (14)`,
    );
  }
  const limit = top.data + top.nbytes;
  if (top.nbytes === 0) return undefined; // an empty placeholder; MATLAB writes these for [] in cells

  const flags = leaf(element, v, top.data, limit, le, 'array flags', where);
  if (flags.type !== MI_UINT32 || flags.nbytes !== 8) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${where}: array flags must be 8 bytes of miUINT32, found ${flags.nbytes} bytes of type ${flags.type}`,
    );
  }
  const flagWord = v.getUint32(flags.data, true);
  const classNo = flagWord & 0xff;
  const complex = (flagWord & 0x0800) !== 0;
  const mxClass: MatClass = MX_CLASSES[classNo] ?? 'unknown';

  const dimsTag = leaf(element, v, flags.end, limit, le, 'dimensions', where);
  if (dimsTag.type !== MI_INT32 || dimsTag.nbytes < 8) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${where}: dimensions must be ≥ 2 miINT32 values, found ${dimsTag.nbytes} bytes of type ${dimsTag.type}`,
    );
  }
  const dims: number[] = [];
  let count = 1;
  for (let p = dimsTag.data; p < dimsTag.data + dimsTag.nbytes; p += 4) {
    const d = v.getInt32(p, true);
    if (d < 0) {
      throw new FaultlineError('FL_ERR_MAT_FORMAT', `${where}: negative dimension ${d}`);
    }
    dims.push(d);
    count *= d;
  }

  const nameTag = leaf(element, v, dimsTag.end, limit, le, 'array name', where);
  if (nameTag.type !== MI_INT8 && nameTag.type !== MI_UINT8 && nameTag.type !== MI_UTF8) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${where}: array name has data type ${nameTag.type}`,
    );
  }
  const name = Buffer.from(element.subarray(nameTag.data, nameTag.data + nameTag.nbytes)).toString(
    'latin1',
  );
  if (name.length === 0) {
    throw new FaultlineError('FL_ERR_MAT_FORMAT', `${where}: top-level variable has an empty name`);
  }
  const label = `${where} ('${name}')`;
  const listed: MatVariable = { name, mxClass, dims, decoded: false };

  const numeric = classNo >= 6 && classNo <= 15;
  const isChar = classNo === 4;
  if (!numeric && !isChar) return listed; // cell, struct, sparse, object…: listed, not decoded
  if (count > 2 ** 31) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${label}: dimensions ${dims.join('x')} exceed 2^31 elements`,
    );
  }
  const real = leaf(element, v, nameTag.end, limit, le, 'real part', label);
  checkCount(real, count, dims, label);
  if (complex) {
    const imag = leaf(element, v, real.end, limit, le, 'imaginary part', label);
    checkCount(imag, count, dims, label);
    return listed; // complex arrays are listed, not decoded
  }
  if (isChar ? !CHAR_TYPES.has(real.type) : !NUMERIC_TYPES.has(real.type)) return listed;
  if (wanted && !wanted.has(name)) return listed;
  return decodeWithLibrary(element.subarray(0, top.end), listed, isChar, label);
}

function checkCount(tag: Tag, count: number, dims: number[], label: string): void {
  // UTF-8 text is variable-width; its byte count cannot be checked against dims.
  if (tag.type === MI_UTF8) return;
  const size = MI_SIZE[tag.type];
  if (tag.nbytes !== count * size) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${label}: dimensions ${dims.join('x')} need ${count * size} bytes of data type ${tag.type} but the element holds ${tag.nbytes}`,
    );
  }
}

/** Runs mat-for-js on one validated little-endian element and converts its output. */
function decodeWithLibrary(
  element: Uint8Array,
  listed: MatVariable,
  isChar: boolean,
  label: string,
): MatVariable {
  const file = new Uint8Array(HEADER_BYTES + pad8(element.length));
  file.set(Buffer.from(HEADER_TEXT, 'latin1'));
  file.fill(0x20, HEADER_TEXT.length, 116);
  file[124] = 0x00; // version 0x0100, little-endian
  file[125] = 0x01;
  file[126] = 0x49; // 'I'
  file[127] = 0x4d; // 'M'
  file.set(element, HEADER_BYTES);
  // The library reads the tag's nbytes and pads to 8 itself; ours is already exact.
  let value: unknown;
  try {
    value = libRead(file.buffer).data[listed.name];
  } catch (err) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${label}: the MAT decoder rejected the variable (${(err as Error).message})`,
      { cause: err },
    );
  }
  const count = listed.dims.reduce((a, b) => a * b, 1);
  if (isChar) {
    return { ...listed, decoded: true, text: charText(value, listed.dims, label) };
  }
  const data = new Float64Array(count);
  flattenColumnMajor(value, listed.dims, data, label);
  return { ...listed, decoded: true, data };
}

/**
 * The library returns vectors (`1×n`, `n×1`) as flat arrays and other arrays
 * nested as `v[i0][i1]…`; MATLAB order is column-major (`i0` fastest).
 */
function flattenColumnMajor(
  value: unknown,
  dims: number[],
  out: Float64Array,
  label: string,
): void {
  const bad: () => never = () => {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${label}: decoded values do not match dimensions ${dims.join('x')}`,
    );
  };
  const num = (x: unknown): number => {
    if (typeof x === 'number') return x;
    if (typeof x === 'bigint') return Number(x);
    return bad();
  };
  if (!Array.isArray(value)) bad();
  const isVector = dims.length === 2 && (dims[0] === 1 || dims[1] === 1);
  if (isVector) {
    if (value.length !== out.length) bad();
    for (let i = 0; i < out.length; i++) out[i] = num(value[i]);
    return;
  }
  const strides: number[] = [];
  let s = 1;
  for (const d of dims) {
    strides.push(s);
    s *= d;
  }
  const walk = (node: unknown, depth: number, base: number): void => {
    if (!Array.isArray(node) || node.length !== dims[depth]) bad();
    const arr = node as unknown[];
    if (depth === dims.length - 1) {
      for (let i = 0; i < arr.length; i++) out[base + i * strides[depth]] = num(arr[i]);
    } else {
      for (let i = 0; i < arr.length; i++) walk(arr[i], depth + 1, base + i * strides[depth]);
    }
  };
  if (out.length > 0) walk(value, 0, 0);
}

function charText(value: unknown, dims: number[], label: string): string {
  const toStr = (x: unknown): string => {
    if (typeof x === 'string') return x;
    if (Array.isArray(x)) return x.map(toStr).join('');
    if (typeof x === 'number') return String.fromCharCode(x);
    throw new FaultlineError('FL_ERR_MAT_FORMAT', `${label}: char array decoded to ${typeof x}`);
  };
  const isRow = dims.length === 2 && (dims[0] <= 1 || dims[1] === 1);
  if (isRow || !Array.isArray(value)) return toStr(value);
  // A rows×cols char matrix comes back as value[row][col].
  return value.map(toStr).join('\n');
}

function pad8(n: number): number {
  return n + ((8 - (n % 8)) % 8);
}
