/**
 * A minimal MATLAB level-5 MAT-file writer for test fixtures: real double and
 * uint16 arrays, char arrays (UTF-16 code units or raw UTF-8 bytes) and cell
 * arrays, little- or big-endian, optionally zlib-compressed per variable.
 * Its output was checked once against scipy.io.loadmat. It does not check
 * that `data` matches `dims`, so tests can write inconsistent files on purpose.
 */
import { deflateSync } from 'node:zlib';

export type FixtureVar =
  | { name: string; kind: 'double' | 'uint16'; dims: number[]; data: number[] }
  | { name: string; kind: 'char'; text: string; utf8?: boolean }
  | { name: string; kind: 'cell'; items: FixtureVar[] };

export interface WriteMatOptions {
  bigEndian?: boolean;
  compress?: boolean;
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
const SIZE: Record<number, number> = { 1: 1, 4: 2, 5: 4, 6: 4, 9: 8, 16: 1 };

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function encode(type: number, values: number[], le: boolean): Uint8Array {
  const size = SIZE[type];
  const b = new Uint8Array(values.length * size);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => {
    const o = i * size;
    if (type === MI.DOUBLE) v.setFloat64(o, x, le);
    else if (type === MI.UINT16) v.setUint16(o, x, le);
    else if (type === MI.INT32) v.setInt32(o, x, le);
    else if (type === MI.UINT32) v.setUint32(o, x, le);
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
  if (variable.kind === 'double' || variable.kind === 'uint16') {
    classNo = variable.kind === 'double' ? 6 : 11;
    dims = variable.dims;
    const type = variable.kind === 'double' ? MI.DOUBLE : MI.UINT16;
    body = [dataElement(type, encode(type, variable.data, le), le)];
  } else if (variable.kind === 'char') {
    classNo = 4;
    if (variable.utf8) {
      const bytes = new Uint8Array(Buffer.from(variable.text, 'utf8'));
      dims = [1, bytes.length];
      body = [dataElement(MI.UTF8, bytes, le)];
    } else {
      const codes = [...variable.text].map((c) => c.charCodeAt(0));
      dims = [1, codes.length];
      body = [dataElement(MI.UINT16, encode(MI.UINT16, codes, le), le)];
    }
  } else if (variable.kind === 'cell') {
    classNo = 1;
    dims = [1, variable.items.length];
    body = variable.items.map((item) => matrix(item, le, ''));
  } else {
    throw new Error('unknown fixture kind');
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

/** Writes a whole MAT-file. */
export function writeMat(vars: FixtureVar[], options: WriteMatOptions = {}): Uint8Array {
  const le = !options.bigEndian;
  const parts = [matHeader(le, options.headerText)];
  for (const v of vars) {
    const m = matrix(v, le, v.name);
    if (options.compress) {
      const z = new Uint8Array(deflateSync(m));
      const tag = new Uint8Array(8);
      const dv = new DataView(tag.buffer);
      dv.setUint32(0, MI.COMPRESSED, le);
      dv.setUint32(4, z.length, le);
      parts.push(tag, z);
    } else {
      parts.push(m);
    }
  }
  return concat(parts);
}
