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
 */
import { readFile } from 'node:fs/promises';
import { inflateSync } from 'node:zlib';
import { FaultlineError } from '../errors.js';
import { MI, type MX_CLASSES } from './mat-decode.js';
import { decodeTopLevel, pad8 } from './mat-element.js';

export type MatClass = (typeof MX_CLASSES)[number];

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
