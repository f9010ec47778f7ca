/**
 * The bounds-checked walk through one top-level miMATRIX element of a
 * MAT-file (see `mat.ts` for the file layout). Every sub-element tag is
 * checked against the bytes of its enclosing element before it is used, and
 * a big-endian element is rewritten to little-endian in place as it is walked,
 * so `mat-decode.ts` only ever sees checked little-endian data.
 *
 *   miMATRIX = flags (miUINT32 ×2: class, complex bit) · dims (miINT32 ×n) ·
 *              name (miINT8) · real part · [imaginary part]    numeric, char
 *   miMATRIX = flags · dims · name · field name length (miINT32, 1 value) ·
 *              field names (miINT8, length × nfields, NUL-padded) ·
 *              one miMATRIX per field per element, element-major    struct
 *
 * A 1×1 struct's fields are walked like variables (their own name element
 * is empty; the field name stands in), so `bearing.gs` is listed and can be
 * decoded on its own. A struct array's field elements are skipped unread:
 * nothing reads them, and its element count could be anything.
 */
import { FaultlineError } from '../errors.js';
import {
  decodeChar,
  decodeNumeric,
  type MatClass,
  MI,
  MI_SIZE,
  MX_CLASSES,
  storageFits,
} from './mat-decode.js';

/**
 * Most elements one numeric array may hold: 2^27 samples is 46 min at 48 kHz,
 * 3 h at 12 kHz (a CWRU file holds 122k), and 1 GiB as float64. More is not
 * a recording Faultline windows in one go but a file crafted to exhaust memory.
 */
export const MAX_ARRAY_ELEMENTS = 2 ** 27;
/**
 * Most characters one char array may hold: text in a recording file is a
 * label or a note, and each character becomes a JS string while decoding.
 */
export const MAX_CHAR_ELEMENTS = 2 ** 24;
/**
 * Most structs nested in one another (`a.b.c` nests 2: a and b). Real files
 * nest a few; the walk recurses, so a crafted chain must not reach the stack's end.
 */
export const MAX_STRUCT_DEPTH = 32;
/**
 * Most struct fields listed in one file, all structs together: each becomes an
 * object, and a compressed element of empty fields would otherwise turn a few
 * KiB into millions of them. Recording files carry a handful.
 */
export const MAX_STRUCT_FIELDS = 65_536;

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
  /** Field names of a struct (1×1 or array), in file order. */
  fieldNames?: string[];
  /** The fields of a 1×1 struct, by field name, in file order; absent for a struct array. */
  fields?: Map<string, MatVariable>;
}

/** State of one file's walk. */
export interface WalkContext {
  /** Variables and dotted field paths to decode; undefined = all. */
  wanted: ReadonlySet<string> | undefined;
  /** Struct fields that may still be listed in this file (starts at {@link MAX_STRUCT_FIELDS}). */
  fieldsLeft: number;
  /**
   * Bytes the decoded arrays of this file may still take (float64: 8 per
   * element, char: 2), charged before each allocation: small stored types
   * (int8: 1 byte per element on disk) grow eightfold when decoded.
   */
  decodedBytesLeft: number;
  /** The file's decode cap, bytes (for the message). */
  decodedBytesCap: number;
}

interface Tag {
  type: number;
  nbytes: number;
  /** Offset of the element's data. */
  data: number;
  /** Offset just past the element, padding included. */
  end: number;
}

/** Where a matrix sits: its field name and dotted path (undefined at top level) and nesting. */
interface Site {
  /** Name of the field (`gs`); undefined for a top-level variable. */
  field?: string;
  /** Dotted path of the field (`bearing.gs`); undefined for a top-level variable. */
  path?: string;
  /** Struct nesting of the matrix: 0 at top level. */
  depth: number;
  /** An enclosing struct was asked for, so everything inside is decoded. */
  decodeAll: boolean;
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
 * Validates one top-level miMATRIX element (`element` = tag + data; for a
 * big-endian file a private copy, normalised to little-endian in place) and
 * decodes the real numeric and char arrays in it that `ctx.wanted` asks for —
 * the variable itself, or fields of a 1×1 struct by dotted path.
 *
 * @returns undefined for an empty placeholder element (nbytes 0)
 */
export function decodeTopLevel(
  element: Uint8Array,
  le: boolean,
  where: string,
  ctx: WalkContext,
): MatVariable | undefined {
  const v = new DataView(element.buffer, element.byteOffset, element.byteLength);
  const top = tagAt(v, 0, element.length, le, 'variable', where);
  if (top.type !== MI.MATRIX) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${where}: element type ${top.type} inside a compressed element, expected miMATRIX (14)`,
    );
  }
  if (top.nbytes === 0) return undefined; // an empty placeholder; MATLAB writes these for [] in cells
  return walkMatrix(element, v, top, le, where, ctx, { depth: 0, decodeAll: false });
}

/** Walks the miMATRIX of tag `top` (nbytes > 0); see {@link decodeTopLevel}. */
function walkMatrix(
  element: Uint8Array,
  v: DataView,
  top: Tag,
  le: boolean,
  where: string,
  ctx: WalkContext,
  site: Site,
): MatVariable {
  const limit = top.data + top.nbytes;
  const flags = leaf(element, v, top.data, limit, le, 'array flags', where);
  if (flags.type !== MI.UINT32 || flags.nbytes !== 8) {
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
  if (dimsTag.type !== MI.INT32 || dimsTag.nbytes < 8) {
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
  if (nameTag.type !== MI.INT8 && nameTag.type !== MI.UINT8 && nameTag.type !== MI.UTF8) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${where}: array name has data type ${nameTag.type}`,
    );
  }
  // A field's own name element is empty: the struct's field names name it.
  let name: string;
  let path: string;
  if (site.path === undefined || site.field === undefined) {
    name = latin1(element, nameTag.data, nameTag.nbytes);
    if (name.length === 0) {
      throw new FaultlineError(
        'FL_ERR_MAT_FORMAT',
        `${where}: top-level variable has an empty name`,
      );
    }
    path = name;
  } else {
    path = site.path;
    name = site.field;
  }
  const label = `${where} ('${path}')`;
  const listed: MatVariable = { name, mxClass, dims, decoded: false };
  const want = site.decodeAll || !ctx.wanted || ctx.wanted.has(path);

  if (classNo === 2) {
    return walkStruct(element, v, nameTag.end, limit, le, where, ctx, listed, count, {
      path,
      depth: site.depth,
      decodeAll: want,
    });
  }
  const numeric = classNo >= 6 && classNo <= 15;
  const isChar = classNo === 4;
  if (!numeric && !isChar) return listed; // cell, sparse, object…: listed, not decoded
  const most = isChar ? MAX_CHAR_ELEMENTS : MAX_ARRAY_ELEMENTS;
  if (count > most) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${label}: dimensions ${dims.join('x')} make ${count} elements, more than the ${most} (2^${Math.log2(most)}) Faultline reads from one ${isChar ? 'char' : 'numeric'} array; split the recording into shorter files`,
    );
  }
  const real = part(element, v, nameTag.end, limit, le, 'real part', label, isChar);
  checkCount(real, count, dims, label);
  if (complex) {
    const imag = part(element, v, real.end, limit, le, 'imaginary part', label, isChar);
    checkCount(imag, count, dims, label);
    return listed; // complex arrays are listed, not decoded
  }
  if (!want) return listed;
  const decodedBytes = count * (isChar ? 2 : 8);
  if (decodedBytes > ctx.decodedBytesLeft) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${label}: decoding ${dims.join('x')} elements takes ${decodedBytes} bytes, more than the ${ctx.decodedBytesLeft} left of the file's ${ctx.decodedBytesCap}-byte decode cap; read fewer variables (options.variables) or split the recording into shorter files`,
    );
  }
  ctx.decodedBytesLeft -= decodedBytes;
  if (isChar) {
    const text = decodeChar(element, real.type, real.data, real.nbytes, dims, label);
    return { ...listed, decoded: true, text };
  }
  return {
    ...listed,
    decoded: true,
    data: decodeNumeric(element, real.type, real.data, real.nbytes),
  };
}

/**
 * Walks a struct's field name length and field names from `off`, then, for a
 * 1×1 struct, each field's miMATRIX (depth first, bounded by
 * {@link MAX_STRUCT_DEPTH}); `count` is the struct's element count.
 */
function walkStruct(
  element: Uint8Array,
  v: DataView,
  off: number,
  limit: number,
  le: boolean,
  where: string,
  ctx: WalkContext,
  listed: MatVariable,
  count: number,
  site: Site & { path: string },
): MatVariable {
  const label = `${where} ('${site.path}')`;
  const lenTag = leaf(element, v, off, limit, le, 'field name length', label);
  if (lenTag.type !== MI.INT32 || lenTag.nbytes !== 4) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${label}: a struct's field name length must be one miINT32, found ${lenTag.nbytes} bytes of type ${lenTag.type}`,
    );
  }
  const nameLen = v.getInt32(lenTag.data, true);
  const namesTag = leaf(element, v, lenTag.end, limit, le, 'field names', label);
  if (namesTag.type !== MI.INT8 && namesTag.type !== MI.UINT8) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${label}: struct field names have data type ${namesTag.type}, expected miINT8 (1)`,
    );
  }
  if (namesTag.nbytes > 0 && (nameLen <= 0 || namesTag.nbytes % nameLen !== 0)) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${label}: struct field names take ${namesTag.nbytes} bytes, not a whole number of ${nameLen}-byte names; the file is corrupt`,
    );
  }
  const nfields = namesTag.nbytes === 0 ? 0 : namesTag.nbytes / nameLen;
  if (nfields > ctx.fieldsLeft) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${label}: the file's structs hold more than ${MAX_STRUCT_FIELDS} fields in all (the cap for one file); refused as a possible memory bomb — save the signals as plain variables`,
    );
  }
  ctx.fieldsLeft -= nfields;
  const fieldNames: string[] = [];
  for (let i = 0; i < nfields; i++) {
    const at = namesTag.data + i * nameLen;
    const nul = element.subarray(at, at + nameLen).indexOf(0);
    fieldNames.push(latin1(element, at, nul < 0 ? nameLen : nul));
  }
  const struct: MatVariable = { ...listed, fieldNames };
  if (count !== 1) return struct; // a struct array: its fields are not read

  if (site.depth + 1 > MAX_STRUCT_DEPTH) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${label}: structs nest deeper than ${MAX_STRUCT_DEPTH} levels; refused as a possible stack bomb — flatten the struct`,
    );
  }
  const fields = new Map<string, MatVariable>();
  let p = namesTag.end;
  for (const field of fieldNames) {
    const fieldPath = `${site.path}.${field}`;
    const tag = tagAt(v, p, limit, le, `field '${fieldPath}'`, label);
    if (tag.type !== MI.MATRIX) {
      throw new FaultlineError(
        'FL_ERR_MAT_FORMAT',
        `${label}: field '${fieldPath}' has element type ${tag.type}, expected miMATRIX (14); the file is corrupt`,
      );
    }
    const child: Site = {
      field,
      path: fieldPath,
      depth: site.depth + 1,
      decodeAll: site.decodeAll,
    };
    fields.set(
      field,
      tag.nbytes === 0
        ? // an empty placeholder stands for [] (0×0 double)
          { name: field, mxClass: 'double', dims: [0, 0], decoded: true, data: new Float64Array(0) }
        : walkMatrix(element, v, tag, le, where, ctx, child),
    );
    p = tag.end;
  }
  return { ...struct, fields };
}

/** A real or imaginary part: a {@link leaf} whose data type must suit a numeric or char array. */
function part(
  bytes: Uint8Array,
  v: DataView,
  off: number,
  limit: number,
  le: boolean,
  what: string,
  label: string,
  isChar: boolean,
): Tag {
  const tag = leaf(bytes, v, off, limit, le, what, label);
  if (!storageFits(tag.type, isChar)) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${label}: ${what} of a ${isChar ? 'char' : 'numeric'} array has data type ${tag.type}, which cannot hold its ${isChar ? 'characters' : 'values'}; the file is corrupt`,
    );
  }
  return tag;
}

/**
 * Checks that a data sub-element holds exactly `count` items: with `count`
 * capped and the sub-element bounded by the bytes present, the decoder's
 * allocation can never exceed what the file really holds.
 */
function checkCount(tag: Tag, count: number, dims: number[], label: string): void {
  // UTF-8 is variable-width: 1 to 4 bytes per character, so only a bound can be checked.
  if (tag.type === MI.UTF8) {
    if (tag.nbytes > 4 * count) {
      throw new FaultlineError(
        'FL_ERR_MAT_FORMAT',
        `${label}: char dimensions ${dims.join('x')} allow at most ${4 * count} bytes of UTF-8 but the element holds ${tag.nbytes}`,
      );
    }
    return;
  }
  const size = MI_SIZE[tag.type];
  if (tag.nbytes !== count * size) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${label}: dimensions ${dims.join('x')} need ${count * size} bytes of data type ${tag.type} but the element holds ${tag.nbytes}`,
    );
  }
}

function latin1(bytes: Uint8Array, off: number, nbytes: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + off, nbytes).toString('latin1');
}

/** `n` rounded up to a multiple of 8 (elements are padded to 8 bytes). */
export function pad8(n: number): number {
  return n + ((8 - (n % 8)) % 8);
}
