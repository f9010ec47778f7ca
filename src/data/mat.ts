/**
 * MATLAB level-5 MAT-file reader (the format of the CWRU bearing files).
 *
 * A MAT-file's lengths cannot be trusted: a truncated or crafted file would
 * otherwise make a reader run past the end, loop on a zero-length element or
 * allocate from absurd dimensions. So this module walks the whole file —
 * header, every top-level element tag, and for numeric/char variables the
 * flags, dimensions, name and data sub-elements — checking each declared size
 * against the bytes really present, before `mat-decode.ts` reads any values.
 * Big-endian ('MI') elements are byte-swapped to little-endian during that
 * walk so the decoder has one byte order to handle.
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
 *               or field name length · field names · one miMATRIX per field
 *               (struct; see `mat-element.ts`)
 *
 * A field of a 1×1 struct is addressed by a dotted path (`bearing.gs`, the
 * MFPT files' signal), like a variable: MATLAB names cannot contain a dot.
 *
 * A hostile file must not exhaust memory: the compressed elements of one
 * file may inflate to {@link MAX_INFLATED_BYTES} in all, each no further than
 * its own declared size, and no array is allocated before its element count
 * is checked against the bytes present and {@link MAX_ARRAY_ELEMENTS}.
 */
import { readFile } from 'node:fs/promises';
import { inflateSync, constants as zlibConstants } from 'node:zlib';
import { FaultlineError } from '../errors.js';
import { MI } from './mat-decode.js';
import {
  decodeTopLevel,
  MAX_ARRAY_ELEMENTS,
  MAX_STRUCT_FIELDS,
  type MatVariable,
  pad8,
  type WalkContext,
} from './mat-element.js';

export type { MatClass } from './mat-decode.js';
export {
  MAX_ARRAY_ELEMENTS,
  MAX_CHAR_ELEMENTS,
  MAX_STRUCT_DEPTH,
  MAX_STRUCT_FIELDS,
  type MatVariable,
} from './mat-element.js';

const HEADER_BYTES = 128;
const HEADER_TEXT = 'MATLAB 5.0 MAT-file';

/**
 * Most bytes the compressed (miCOMPRESSED) elements of one file may inflate to,
 * all together: one {@link MAX_ARRAY_ELEMENTS}-sample float64 array (1 GiB)
 * plus 64 MiB for headers and small variables. A real compressed recording
 * inflates to about its own size (an MFPT file: 1.1 MB → 1.2 MB); zlib can
 * inflate ~1000-fold, so without a cap a 1 MB file could ask for 1 GB per
 * element, and a file may hold any number of elements.
 */
export const MAX_INFLATED_BYTES = MAX_ARRAY_ELEMENTS * 8 + 64 * 2 ** 20;
/**
 * Most bytes the decoded arrays of one file may take together (float64, 8
 * bytes per element), the same room as {@link MAX_INFLATED_BYTES}: one
 * {@link MAX_ARRAY_ELEMENTS}-sample array plus 64 MiB. Without it, arrays
 * stored as int8 inside the inflation cap could each decode to 1 GiB.
 */
export const MAX_DECODED_BYTES = MAX_ARRAY_ELEMENTS * 8 + 64 * 2 ** 20;
/**
 * Compressed bytes inflated first, to read the element's tag (and so its
 * declared size) before inflating the rest: at zlib's ~1000:1 at most ~1 MiB.
 */
const PEEK_COMPRESSED_BYTES = 1024;

export interface ReadMatOptions {
  /**
   * Decode only these variables or struct fields (`bearing.gs`; a struct
   * named whole decodes all its fields); others are still bounds-checked and
   * listed, undecoded. Default: all.
   */
  variables?: readonly string[];
  /** Most bytes all compressed elements of the file may inflate to, together. Default {@link MAX_INFLATED_BYTES}. */
  maxInflatedBytes?: number;
  /** Most bytes the decoded arrays of the file may take, together. Default {@link MAX_DECODED_BYTES}. */
  maxDecodedBytes?: number;
  /** Name used in error messages when `src` is a buffer. */
  label?: string;
}

/**
 * Reads a MAT-file from a path or from its bytes.
 *
 * @returns every top-level variable by name, in file order (1×1 structs with
 *   their fields: see {@link matVariable})
 * @throws FaultlineError FL_ERR_MAT_FORMAT (not a level-5 MAT-file, corrupt or
 *   inconsistent element, or past a cap: {@link MAX_INFLATED_BYTES},
 *   {@link MAX_ARRAY_ELEMENTS}…), FL_ERR_MAT_TRUNCATED (ends before its declared
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
  const ctx: WalkContext = {
    wanted: options.variables ? new Set(options.variables) : undefined,
    fieldsLeft: MAX_STRUCT_FIELDS,
    decodedBytesLeft: options.maxDecodedBytes ?? MAX_DECODED_BYTES,
    decodedBytesCap: options.maxDecodedBytes ?? MAX_DECODED_BYTES,
  };
  const cap = options.maxInflatedBytes ?? MAX_INFLATED_BYTES;
  const inflation: InflationBudget = { cap, left: cap };
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
    if (type !== MI.MATRIX && type !== MI.COMPRESSED) {
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
    const next = type === MI.MATRIX ? dataStart + pad8(nbytes) : dataStart + nbytes;

    // The uncompressed element, tag included. The walk below rewrites a
    // big-endian element to little-endian in place, so that needs a private
    // copy; a little-endian one is only read, so a view of the input will do.
    let element: Uint8Array;
    if (type === MI.COMPRESSED) {
      element = inflateElement(bytes.subarray(dataStart, dataStart + nbytes), le, inflation, where);
    } else {
      // (`new Uint8Array(view)` copies; Buffer#slice would not.)
      const view = bytes.subarray(off, dataStart + nbytes);
      element = le ? view : new Uint8Array(view);
    }
    const variable = decodeTopLevel(element, le, where, ctx);
    if (variable) out.set(variable.name, variable);
    off = next;
    index++;
  }
  return out;
}

/**
 * Returns the named variable, or with a dotted path (`bearing.gs`, `a.b.c`)
 * the field of a 1×1 struct, as listed by {@link readMat}.
 * @throws FaultlineError FL_ERR_MAT_VARIABLE when missing (the message lists
 *   what there is), or when a path runs through a non-struct or a struct array
 */
export function matVariable(
  vars: Map<string, MatVariable>,
  name: string,
  file: string,
): MatVariable {
  const exact = vars.get(name);
  if (exact) return exact;
  const [first, ...rest] = name.split('.');
  let v = vars.get(first);
  if (!v) {
    const have = matVariableNames(vars).join(', ') || 'none';
    throw new FaultlineError(
      'FL_ERR_MAT_VARIABLE',
      `${file} has no variable '${name}' (it holds: ${have}); name one of those`,
    );
  }
  let at = first;
  for (const field of rest) {
    if (v.mxClass !== 'struct') {
      throw new FaultlineError(
        'FL_ERR_MAT_VARIABLE',
        `${file}: '${at}' is a ${v.dims.join('x')} ${v.mxClass} array, not a struct, so '${name}' does not exist; name a variable or a struct field (it holds: ${matVariableNames(vars).join(', ')})`,
      );
    }
    if (!v.fields) {
      throw new FaultlineError(
        'FL_ERR_MAT_VARIABLE',
        `${file}: '${at}' is a ${v.dims.join('x')} struct array; only fields of a 1x1 struct can be read, so '${name}' cannot — save the signal as its own variable or in a 1x1 struct`,
      );
    }
    const next = v.fields.get(field);
    if (!next) {
      throw new FaultlineError(
        'FL_ERR_MAT_VARIABLE',
        `${file}: struct '${at}' has no field '${field}' (its fields: ${v.fieldNames?.join(', ') || 'none'}); name one of those, e.g. '${at}.${v.fieldNames?.[0] ?? field}'`,
      );
    }
    v = next;
    at = `${at}.${field}`;
  }
  return v;
}

/**
 * The names of `vars` for listings: top-level variables, with each 1×1
 * struct replaced by its fields' dotted paths (`bearing.gs, bearing.sr, FTF`).
 */
export function matVariableNames(vars: ReadonlyMap<string, MatVariable>): string[] {
  const names: string[] = [];
  const add = (v: MatVariable, path: string): void => {
    if (v.fields && v.fields.size > 0) {
      for (const [field, f] of v.fields) add(f, `${path}.${field}`);
    } else names.push(path);
  };
  for (const [name, v] of vars) add(v, name);
  return names;
}

/**
 * Returns the named variable or struct field (see {@link matVariable}) as a
 * real numeric vector (any `n×1`, `1×n` or `n`-element array), e.g. a CWRU
 * channel or MFPT's `bearing.gs`.
 * @throws FaultlineError FL_ERR_MAT_VARIABLE when missing, undecoded or not a vector
 */
export function matVector(
  vars: Map<string, MatVariable>,
  name: string,
  file: string,
): Float64Array {
  const v = matVariable(vars, name, file);
  const nonUnit = v.dims.filter((d) => d !== 1).length;
  if (!v.data || nonUnit > 1) {
    const fields = v.fields?.size
      ? `; name one of its fields: ${matVariableNames(new Map([[name, v]])).join(', ')}`
      : '';
    throw new FaultlineError(
      'FL_ERR_MAT_VARIABLE',
      `${file}: variable '${name}' is a ${v.dims.join('x')} ${v.mxClass}${v.fields ? '' : ' array'}${v.decoded || v.fields ? '' : ' (not decoded)'}; a real numeric vector is needed${fields}`,
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

/** What the compressed elements of one file may still inflate to. */
interface InflationBudget {
  /** The file's cap, bytes ({@link MAX_INFLATED_BYTES} unless overridden). */
  cap: number;
  /** Bytes not yet inflated, of `cap`. */
  left: number;
}

/**
 * Inflates one miCOMPRESSED element's zlib stream, charging `budget`. The
 * first compressed bytes are inflated alone to read the inner tag: an element
 * declaring more than the budget left is refused before anything large is
 * allocated, and the rest may then inflate no further than its declared size.
 */
function inflateElement(
  compressed: Uint8Array,
  le: boolean,
  budget: InflationBudget,
  where: string,
): Uint8Array {
  const refuse = (size: string): never => {
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${where}: compressed element would inflate to ${size}, more than the ${budget.left} left of the file's ${budget.cap}-byte inflation cap (MAX_INFLATED_BYTES: room for one ${MAX_ARRAY_ELEMENTS}-sample float64 array); refused as a possible decompression bomb — if the recording is genuine, split it into shorter files`,
    );
  };
  const head = inflate(
    compressed.subarray(0, PEEK_COMPRESSED_BYTES),
    { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: 2 ** 21 },
    where,
  );
  let limit: number;
  let declared = true;
  if (head.length >= 8) {
    const hv = new DataView(head.buffer, head.byteOffset, 8);
    const type = hv.getUint32(0, le);
    if (type !== MI.MATRIX) {
      throw new FaultlineError(
        'FL_ERR_MAT_FORMAT',
        `${where}: element type ${type} inside a compressed element, expected miMATRIX (14)`,
      );
    }
    limit = 8 + pad8(hv.getUint32(4, le));
    if (limit > budget.left) refuse(`${limit} bytes (its declared size)`);
  } else if (compressed.length <= PEEK_COMPRESSED_BYTES) {
    // The whole stream gave less than a tag; decodeTopLevel reports the short element.
    limit = Math.max(1, head.length);
  } else {
    // Over a KiB of stream without a whole tag: only the budget bounds it.
    limit = budget.left;
    declared = false;
    if (limit === 0) refuse('more bytes');
  }
  let plain: Buffer;
  try {
    // With the size known, one output chunk one byte larger than it: no
    // concatenation of 64 KiB chunks (twice the memory at the end), and the
    // extra byte is what tells an element inflating past its size.
    const chunkSize = declared ? Math.max(64, limit + 1) : undefined;
    plain = inflateSync(compressed, { maxOutputLength: limit, chunkSize });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE') {
      return rethrowInflate(err, where);
    }
    if (!declared) return refuse(`more than ${limit} bytes`);
    throw new FaultlineError(
      'FL_ERR_MAT_FORMAT',
      `${where}: compressed element inflates past its declared ${limit} bytes; the file is corrupt or crafted — fetch it again`,
      { cause: err },
    );
  }
  budget.left -= plain.byteLength;
  return new Uint8Array(plain.buffer, plain.byteOffset, plain.byteLength);
}

function inflate(
  compressed: Uint8Array,
  options: { finishFlush: number; maxOutputLength: number },
  where: string,
): Buffer {
  try {
    return inflateSync(compressed, options);
  } catch (err) {
    return rethrowInflate(err, where);
  }
}

function rethrowInflate(err: unknown, where: string): never {
  const msg = (err as Error).message;
  const code = /unexpected end/i.test(msg) ? 'FL_ERR_MAT_TRUNCATED' : 'FL_ERR_MAT_FORMAT';
  throw new FaultlineError(code, `${where}: compressed element cannot be inflated (${msg})`, {
    cause: err,
  });
}
