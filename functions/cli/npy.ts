// Reads a NumPy `.npy` matrix (float16/32/64, C order, format version 1-3) into one Float32Array, row-major.
// Used by `winnow import-features` (features computed elsewhere, e.g. DINOv2) and by the benchmarks.

import { readFile } from 'node:fs/promises';
import { halfToFloat32 } from '../domain/half.js';

export interface NpyMatrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

export async function readNpy(path: string): Promise<NpyMatrix> {
  return parseNpy(new Uint8Array(await readFile(path)));
}

const BYTES: Record<string, number> = { f2: 2, f4: 4, f8: 8 };
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function parseNpy(bytes: Uint8Array): NpyMatrix {
  const magic = String.fromCharCode(...bytes.subarray(1, 6));
  if (bytes.length < 10 || bytes[0] !== 0x93 || magic !== 'NUMPY') throw new Error('not a .npy file (bad magic bytes)');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*True/.test(header);
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw new Error(`unreadable .npy header: ${header.trim()}`);
  if (fortran) throw new Error('.npy in Fortran order is not supported; save it with np.ascontiguousarray(x)');
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (shape.length !== 2) throw new Error(`expected a 2-d matrix (one row per sample), got shape (${shapeText.trim()})`);
  const [rows, cols] = shape;
  const kind = descr.slice(1);
  const size = BYTES[kind];
  if (!size) throw new Error(`unsupported .npy dtype ${descr} (use float16, float32 or float64)`);
  const little = descr[0] !== '>';
  const offset = headerStart + headerLen;
  const n = rows * cols;
  if (bytes.length - offset < n * size) {
    throw new Error(`.npy file is truncated: shape (${rows}, ${cols}) needs ${n * size} data bytes, found ${bytes.length - offset}`);
  }
  return { rows, cols, data: decode(bytes.subarray(offset, offset + n * size), kind, little, n) };
}

function decode(body: Uint8Array, kind: string, little: boolean, n: number): Float32Array {
  // The common case (little-endian data on a little-endian host) is a plain copy, not a per-value DataView loop.
  if (little === LITTLE_ENDIAN_HOST) {
    const copy = body.slice().buffer; // aligned, owned
    if (kind === 'f4') return new Float32Array(copy);
    if (kind === 'f2') return halfToFloat32(new Uint16Array(copy));
    return Float32Array.from(new Float64Array(copy));
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const data = new Float32Array(n);
  if (kind === 'f4') for (let i = 0; i < n; i++) data[i] = view.getFloat32(i * 4, little);
  else if (kind === 'f8') for (let i = 0; i < n; i++) data[i] = view.getFloat64(i * 8, little);
  else {
    const halves = new Uint16Array(n);
    for (let i = 0; i < n; i++) halves[i] = view.getUint16(i * 2, little);
    halfToFloat32(halves, data);
  }
  return data;
}

