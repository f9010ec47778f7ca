/**
 * The bounds-checked walk through one top-level miMATRIX element of a
 * MAT-file (see `mat.ts` for the file layout). Every sub-element tag is
 * checked against the bytes of its enclosing element before it is used, and
 * a big-endian element is rewritten to little-endian in place as it is walked,
 * so `mat-decode.ts` only ever sees checked little-endian data.
 *
 *   miMATRIX = flags (miUINT32 ×2: class, complex bit) · dims (miINT32 ×n) ·
 *              name (miINT8) · real part · [imaginary part]
 */
import { FaultlineError } from '../errors.js';
import type { MatClass, MatVariable } from './mat.js';
import { decodeChar, decodeNumeric, MI, MI_SIZE, MX_CLASSES, storageFits } from './mat-decode.js';

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
 * Validates one top-level miMATRIX element (`element` = tag + data; for a
 * big-endian file a private copy, normalised to little-endian in place) and
 * decodes it when it is a real numeric or char array that the caller wants.
 *
 * @returns undefined for an empty placeholder element (nbytes 0)
 */
export function decodeTopLevel(
  element: Uint8Array,
  le: boolean,
  where: string,
  wanted: Set<string> | undefined,
): MatVariable | undefined {
  const v = new DataView(element.buffer, element.byteOffset, element.byteLength);
  const top = tagAt(v, 0, element.length, le, 'variable', where);
  if (top.type !== MI.MATRIX) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${where}: element type ${top.type} inside a compressed element, expected miMATRIX (14)`,
    );
  }
  const limit = top.data + top.nbytes;
  if (top.nbytes === 0) return undefined; // an empty placeholder; MATLAB writes these for [] in cells

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
  const real = part(element, v, nameTag.end, limit, le, 'real part', label, isChar);
  checkCount(real, count, dims, label);
  if (complex) {
    const imag = part(element, v, real.end, limit, le, 'imaginary part', label, isChar);
    checkCount(imag, count, dims, label);
    return listed; // complex arrays are listed, not decoded
  }
  if (wanted && !wanted.has(name)) return listed;
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

function checkCount(tag: Tag, count: number, dims: number[], label: string): void {
  // UTF-8 text is variable-width; its byte count cannot be checked against dims.
  if (tag.type === MI.UTF8) return;
  const size = MI_SIZE[tag.type];
  if (tag.nbytes !== count * size) {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${label}: dimensions ${dims.join('x')} need ${count * size} bytes of data type ${tag.type} but the element holds ${tag.nbytes}`,
    );
  }
}

/** `n` rounded up to a multiple of 8 (elements are padded to 8 bytes). */
export function pad8(n: number): number {
  return n + ((8 - (n % 8)) % 8);
}
