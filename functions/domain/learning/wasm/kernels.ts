// JS side of the SIMD kernels: one module instance per process, a stack-like scratch heap in its memory, and
// wrappers that copy rows in (padded to 16 elements) in chunks, so callers keep ordinary typed arrays.

import { MAX_PAGES, SIMD_MODULE } from './simd-module.js';

interface Exports {
  memory: WebAssembly.Memory;
  dotF32(x: number, n: number, rowBytes: number, w: number, k: number, out: number): void;
  dotI8(q: number, n: number, rowBytes: number, w: number, k: number, out: number): void;
}

let exports: Exports | undefined;
let top = 64;

function wasm(): Exports {
  exports ??= new WebAssembly.Instance(new WebAssembly.Module(SIMD_MODULE), {}).exports as unknown as Exports;
  return exports;
}

export const padDim = (dim: number) => Math.ceil(dim / 16) * 16;

/** Reserves `bytes` (16-byte aligned) on the scratch stack; free with `release(mark)` in a finally. */
function alloc(bytes: number): number {
  const { memory } = wasm();
  const ptr = top;
  top = Math.ceil((top + bytes) / 16) * 16;
  const need = Math.ceil(top / 65536) - memory.buffer.byteLength / 65536;
  if (need > 0) {
    if (memory.buffer.byteLength / 65536 + need > MAX_PAGES) throw new Error('learning kernels: scratch memory exhausted');
    memory.grow(need);
  }
  return ptr;
}

const mark = () => top;
const release = (m: number) => {
  top = m;
};
const buffer = () => wasm().memory.buffer;

/** Copies rows [start, end) of a row-major matrix into scratch at `ptr` with a padded stride. */
function copyRows<T extends Float32Array | Int8Array>(src: T, dim: number, start: number, end: number, ptr: number, stride: number): void {
  const Ctor = src.constructor as { new (b: ArrayBuffer, o: number, l: number): T };
  const dst = new Ctor(buffer(), ptr, (end - start) * stride);
  if (stride === dim) {
    dst.set(src.subarray(start * dim, end * dim) as never);
    return;
  }
  dst.fill(0);
  for (let i = start; i < end; i++) dst.set(src.subarray(i * dim, (i + 1) * dim) as never, (i - start) * stride);
}

const CHUNK_BYTES = 4 << 20;

/** out[i*k + j] = rows_i . w_j for fp32 rows (n x dim) and weights (k x dim). */
export function dotRowsF32(rows: Float32Array, n: number, dim: number, w: Float32Array, k: number, out: Float32Array): void {
  const stride = padDim(dim);
  const m = mark();
  try {
    const wPtr = alloc(k * stride * 4);
    copyRows(w, dim, 0, k, wPtr, stride);
    const chunk = Math.max(1, Math.floor(CHUNK_BYTES / (stride * 4)));
    const xPtr = alloc(chunk * stride * 4);
    const oPtr = alloc(chunk * k * 4);
    for (let start = 0; start < n; start += chunk) {
      const end = Math.min(n, start + chunk);
      copyRows(rows, dim, start, end, xPtr, stride);
      wasm().dotF32(xPtr, end - start, stride * 4, wPtr, k, oPtr);
      out.set(new Float32Array(buffer(), oPtr, (end - start) * k), start * k);
    }
  } finally {
    release(m);
  }
}

/**
 * out[i*k + j] = q_i . w_j in integers, for int8 rows [start, end) (row-major, dim each) and int16 weights.
 * Weights must stay within +-8191 so 8192-d sums cannot overflow int32.
 */
export function dotRowsI8(q: Int8Array, dim: number, start: number, end: number, w: Int16Array, k: number, out: Int32Array): void {
  const stride = padDim(dim);
  const m = mark();
  try {
    const wPtr = alloc(k * stride * 2);
    const wDst = new Int16Array(buffer(), wPtr, k * stride);
    wDst.fill(0);
    for (let j = 0; j < k; j++) wDst.set(w.subarray(j * dim, (j + 1) * dim), j * stride);
    const chunk = Math.max(1, Math.floor(CHUNK_BYTES / stride));
    const xPtr = alloc(chunk * stride);
    const oPtr = alloc(chunk * k * 4);
    for (let s = start; s < end; s += chunk) {
      const e = Math.min(end, s + chunk);
      copyRows(q, dim, s, e, xPtr, stride);
      wasm().dotI8(xPtr, e - s, stride, wPtr, k, oPtr);
      out.set(new Int32Array(buffer(), oPtr, (e - s) * k), (s - start) * k);
    }
  } finally {
    release(m);
  }
}

/**
 * A fp32 matrix kept in kernel memory for many passes (the labeled set during one fit).
 * Use inside `withResidentRows` so the scratch is released.
 */
export interface ResidentRows {
  n: number;
  dim: number;
  /** out[i*k + j] = x_i . w_j */
  dots(w: Float32Array, k: number, out: Float32Array): void;
  /** g[j*dim + d] = sum_i r[i*k + j] * x_i[d] (g is overwritten): the gradient's X^T R. */
  outer(r: Float32Array, k: number, g: Float32Array): void;
}

export function withResidentRows<T>(rows: Float32Array, n: number, dim: number, fn: (x: ResidentRows) => T): T {
  const stride = padDim(dim);
  const nStride = padDim(n);
  const m = mark();
  try {
    const xPtr = alloc(n * stride * 4);
    copyRows(rows, dim, 0, n, xPtr, stride);
    // X^T too, so the gradient X^T R runs through the same fast dot kernel as the logits X W^T.
    const xtPtr = alloc(dim * nStride * 4);
    const xt = new Float32Array(buffer(), xtPtr, dim * nStride);
    xt.fill(0);
    for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) xt[d * nStride + i] = rows[i * dim + d];
    let cap = 0;
    let wPtr = 0;
    let oPtr = 0;
    const ensure = (k: number) => {
      if (k <= cap) return;
      cap = k;
      wPtr = alloc(k * Math.max(stride, nStride) * 4);
      oPtr = alloc(k * Math.max(n, dim) * 4);
    };
    return fn({
      n,
      dim,
      dots(w, k, out) {
        ensure(k);
        copyRows(w, dim, 0, k, wPtr, stride);
        wasm().dotF32(xPtr, n, stride * 4, wPtr, k, oPtr);
        out.set(new Float32Array(buffer(), oPtr, n * k));
      },
      outer(r, k, g) {
        ensure(k);
        const rt = new Float32Array(buffer(), wPtr, k * nStride);
        rt.fill(0);
        for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) rt[j * nStride + i] = r[i * k + j];
        wasm().dotF32(xtPtr, dim, nStride * 4, wPtr, k, oPtr);
        const o = new Float32Array(buffer(), oPtr, dim * k);
        for (let d = 0; d < dim; d++) for (let j = 0; j < k; j++) g[j * dim + d] = o[d * k + j];
      },
    });
  } finally {
    release(m);
  }
}
