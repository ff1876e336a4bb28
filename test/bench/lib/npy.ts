// Reads a NumPy `.npy` matrix (float16/32/64, C order, version 1-3) into one Float32Array, row-major.

import { readFile } from 'node:fs/promises';

export interface NpyMatrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

export async function readNpy(path: string): Promise<NpyMatrix> {
  return parseNpy(new Uint8Array(await readFile(path)));
}

export function parseNpy(bytes: Uint8Array): NpyMatrix {
  const magic = String.fromCharCode(...bytes.subarray(1, 6));
  if (bytes[0] !== 0x93 || magic !== 'NUMPY') throw new Error('not a .npy file (bad magic)');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*True/.test(header);
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw new Error(`unreadable .npy header: ${header}`);
  if (fortran) throw new Error('.npy in Fortran order is not supported; save with np.ascontiguousarray');
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (shape.length !== 2) throw new Error(`expected a 2-d matrix, got shape (${shapeText})`);
  const [rows, cols] = shape;
  const little = descr[0] !== '>';
  const kind = descr.slice(1);
  const offset = headerStart + headerLen;
  const n = rows * cols;
  const data = new Float32Array(n);
  const body = new DataView(bytes.buffer, bytes.byteOffset + offset, bytes.byteLength - offset);
  if (kind === 'f4') for (let i = 0; i < n; i++) data[i] = body.getFloat32(i * 4, little);
  else if (kind === 'f8') for (let i = 0; i < n; i++) data[i] = body.getFloat64(i * 8, little);
  else if (kind === 'f2') for (let i = 0; i < n; i++) data[i] = halfToFloat(body.getUint16(i * 2, little));
  else throw new Error(`unsupported .npy dtype ${descr} (use float16, float32 or float64)`);
  return { rows, cols, data };
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
