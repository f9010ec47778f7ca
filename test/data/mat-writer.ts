/**
 * A minimal MATLAB level-5 MAT-file writer for test fixtures: real numeric
 * arrays of every class (optionally stored in a narrower data type, as MATLAB
 * does: `{ kind: 'double', storage: 'uint8' }`), char arrays (UTF-16 code
 * units or raw UTF-8 bytes), cell arrays and structs (1×1, nested, or arrays),
 * little- or big-endian, optionally zlib-compressed per variable (all, or the
 * named ones). Its output was checked against scipy.io.loadmat (narrowed
 * storage and nested structs included). It does not check that `data`
 * matches `dims`, and `dataType` / `fieldNameLength` override what it would
 * write, so tests can write inconsistent files on purpose;
 * {@link compressedElement} wraps any bytes, e.g. a decompression bomb.
 */
import { deflateSync } from 'node:zlib';
import { concat } from '../support/bytes.js';

export type NumericKind =
  | 'double'
  | 'single'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64';

export type FixtureVar =
  | {
      name: string;
      kind: NumericKind;
      dims: number[];
      data: number[];
      /** Data type the values are stored in; default: the class's own. */
      storage?: NumericKind;
      /** Type number written in the data tag instead of the storage type's. */
      dataType?: number;
    }
  /** `text` in column-major order; `dims` default `[1, length]`. */
  | { name: string; kind: 'char'; text: string; utf8?: boolean; dims?: number[]; dataType?: number }
  | { name: string; kind: 'cell'; items: FixtureVar[] }
  | {
      name: string;
      kind: 'struct';
      /** The fields, each named by its `name`; every element of a struct array gets the same values. */
      fields: FixtureVar[];
      /** Default `[1, 1]`; any other makes a struct array. */
      dims?: number[];
      /**
       * Field name length written in its element; default the longest name + 1
       * (its NUL), as MATLAB does, which is also the length the names are laid out with.
       */
      fieldNameLength?: number;
    };

/** mxCLASS number and storage data type (miXXX) of each numeric kind. */
const NUMERIC: Record<NumericKind, { classNo: number; type: number }> = {
  double: { classNo: 6, type: 9 },
  single: { classNo: 7, type: 7 },
  int8: { classNo: 8, type: 1 },
  uint8: { classNo: 9, type: 2 },
  int16: { classNo: 10, type: 3 },
  uint16: { classNo: 11, type: 4 },
  int32: { classNo: 12, type: 5 },
  uint32: { classNo: 13, type: 6 },
  int64: { classNo: 14, type: 12 },
  uint64: { classNo: 15, type: 13 },
};

export interface WriteMatOptions {
  bigEndian?: boolean;
  /** Compress every variable (true) or the named ones. */
  compress?: boolean | readonly string[];
  headerText?: string;
}

const MI = {
  INT8: 1,
  UINT16: 4,
  INT32: 5,
  UINT32: 6,
  DOUBLE: 9,
  MATRIX: 14,
  COMPRESSED: 15,
  UTF8: 16,
};
const SIZE: Record<number, number> = {
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
};

function encode(type: number, values: number[], le: boolean): Uint8Array {
  const size = SIZE[type];
  const b = new Uint8Array(values.length * size);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => {
    const o = i * size;
    if (type === MI.DOUBLE) v.setFloat64(o, x, le);
    else if (type === 7) v.setFloat32(o, x, le);
    else if (type === 3) v.setInt16(o, x, le);
    else if (type === MI.UINT16) v.setUint16(o, x, le);
    else if (type === MI.INT32) v.setInt32(o, x, le);
    else if (type === MI.UINT32) v.setUint32(o, x, le);
    else if (type === 12) v.setBigInt64(o, BigInt(x), le);
    else if (type === 13) v.setBigUint64(o, BigInt(x), le);
    else v.setUint8(o, x & 0xff);
  });
  return b;
}

/** A data element; uses the 4-byte "small" tag when the payload is ≤ 4 bytes. */
export function dataElement(type: number, payload: Uint8Array, le: boolean): Uint8Array {
  if (payload.length <= 4 && payload.length > 0) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setUint32(0, (payload.length << 16) | type, le);
    b.set(payload, 4);
    return b;
  }
  const padded = payload.length + ((8 - (payload.length % 8)) % 8);
  const b = new Uint8Array(8 + padded);
  const v = new DataView(b.buffer);
  v.setUint32(0, type, le);
  v.setUint32(4, payload.length, le);
  b.set(payload, 8);
  return b;
}

function matrix(variable: FixtureVar, le: boolean, name: string): Uint8Array {
  let classNo: number;
  let dims: number[];
  let body: Uint8Array[];
  if (variable.kind === 'char') {
    classNo = 4;
    if (variable.utf8) {
      const bytes = new Uint8Array(Buffer.from(variable.text, 'utf8'));
      dims = variable.dims ?? [1, variable.text.length];
      body = [dataElement(variable.dataType ?? MI.UTF8, bytes, le)];
    } else {
      const codes = [...variable.text].map((c) => c.charCodeAt(0));
      dims = variable.dims ?? [1, codes.length];
      body = [dataElement(variable.dataType ?? MI.UINT16, encode(MI.UINT16, codes, le), le)];
    }
  } else if (variable.kind === 'cell') {
    classNo = 1;
    dims = [1, variable.items.length];
    body = variable.items.map((item) => matrix(item, le, ''));
  } else if (variable.kind === 'struct') {
    classNo = 2;
    dims = variable.dims ?? [1, 1];
    const names = variable.fields.map((f) => f.name);
    const len = Math.max(0, ...names.map((n) => n.length)) + 1;
    const nameBytes = new Uint8Array(len * names.length);
    names.forEach((n, i) => {
      nameBytes.set(Buffer.from(n, 'latin1'), i * len);
    });
    const elements = dims.reduce((a, b) => a * b, 1);
    const values = elements > 0 ? variable.fields.map((f) => matrix(f, le, '')) : [];
    body = [
      dataElement(MI.INT32, encode(MI.INT32, [variable.fieldNameLength ?? len], le), le),
      dataElement(MI.INT8, nameBytes, le),
      ...Array.from({ length: elements }, () => values).flat(),
    ];
  } else {
    classNo = NUMERIC[variable.kind].classNo;
    dims = variable.dims;
    const type = NUMERIC[variable.storage ?? variable.kind].type;
    body = [dataElement(variable.dataType ?? type, encode(type, variable.data, le), le)];
  }
  const flags = dataElement(MI.UINT32, encode(MI.UINT32, [classNo, 0], le), le);
  const dimsEl = dataElement(MI.INT32, encode(MI.INT32, dims, le), le);
  const nameBytes = new Uint8Array(Buffer.from(name, 'latin1'));
  const nameEl =
    nameBytes.length === 0
      ? dataElement(MI.INT8, new Uint8Array(0), le)
      : dataElement(MI.INT8, nameBytes, le);
  return dataElement(MI.MATRIX, concat([flags, dimsEl, nameEl, ...body]), le);
}

/** The 128-byte header. */
export function matHeader(
  le: boolean,
  text = 'MATLAB 5.0 MAT-file, written by faultline tests',
): Uint8Array {
  const h = new Uint8Array(128).fill(0x20);
  h.set(Buffer.from(text.slice(0, 116), 'latin1'));
  h.fill(0, 116, 124);
  new DataView(h.buffer).setUint16(124, 0x0100, le);
  h.set(Buffer.from(le ? 'IM' : 'MI', 'latin1'), 126);
  return h;
}

/** A miCOMPRESSED element: tag + the zlib stream of `inflated` (any bytes, e.g. a miMATRIX element). */
export function compressedElement(inflated: Uint8Array, le: boolean): Uint8Array {
  return compressedStream(new Uint8Array(deflateSync(inflated)), le);
}

/** A miCOMPRESSED element around an already-made zlib stream. */
export function compressedStream(zlib: Uint8Array, le: boolean): Uint8Array {
  const tag = new Uint8Array(8);
  const dv = new DataView(tag.buffer);
  dv.setUint32(0, MI.COMPRESSED, le);
  dv.setUint32(4, zlib.length, le);
  return concat([tag, zlib]);
}

/** The miMATRIX element of one variable (uncompressed). */
export function matrixElement(variable: FixtureVar, le = true): Uint8Array {
  return matrix(variable, le, variable.name);
}

/** Writes a whole MAT-file. */
export function writeMat(vars: FixtureVar[], options: WriteMatOptions = {}): Uint8Array {
  const le = !options.bigEndian;
  const parts = [matHeader(le, options.headerText)];
  const { compress } = options;
  for (const v of vars) {
    const m = matrix(v, le, v.name);
    const packed = compress === true || (Array.isArray(compress) && compress.includes(v.name));
    parts.push(packed ? compressedElement(m, le) : m);
  }
  return concat(parts);
}
