// The hot loops of training and scoring, as WebAssembly SIMD (plain JS managed ~0.5 G multiply-adds/s here, too
// slow to rescore 1M x 1280 in seconds). Rows are padded to a multiple of 16 elements; pointers are byte offsets.
//   dotF32(x, n, rowBytes, w, k, out):   out[i*k+j] = sum_d x[i,d] * w[j,d]            (f32)
//   dotI8(q, n, rowBytes, w, k, out):    out[i*k+j] = sum_d q[i,d] * w[j,d]            (i8 rows, i16 weights, i32 out)
// The gradient's X^T R is dotF32 on the transposed labeled matrix (see kernels.ts).
// Plain SIMD only (no relaxed FMA), so results are bit-identical on every machine.

import { encodeModule, F32, I32, op, V128, type WasmFunction } from './encoder.js';

const { block, loop, end, br, brIf, get, set, i32Const, i32Add, i32Mul, i32GeU } = op;

// Shared parameter layout (x, n, rowBytes, w, k, out) and loop locals.
const X = 0, N = 1, ROW = 2, W = 3, K = 4, OUT = 5;
const I = 6, J = 7, D = 8, ROWP = 9, WP = 10, ACC0 = 11, ACC1 = 12, V = 13;
const PARAMS = [I32, I32, I32, I32, I32, I32];

const inc = (local: number, by: number | number[]) => [
  ...get(local),
  ...(typeof by === 'number' ? i32Const(by) : by),
  ...i32Add,
  ...set(local),
];

/** for (local = 0; local < limit; local += step) { body } */
function forLoop(local: number, limit: number[], step: number | number[], body: number[]): number[] {
  return [
    ...i32Const(0), ...set(local),
    ...block, ...loop,
    ...get(local), ...limit, ...i32GeU, ...brIf(1),
    ...body,
    ...inc(local, step),
    ...br(0),
    ...end, ...end,
  ];
}

const loadAt = (base: number, offsetLocal: number, imm = 0, scaleOffset = false) => [
  ...get(base), ...get(offsetLocal), ...(scaleOffset ? [...get(offsetLocal), ...i32Add] : []), ...i32Add, ...op.v128Load(imm),
];

/** while (!(exitCond)) { body } */
function whileNot(exitCond: number[], body: number[]): number[] {
  return [...block, ...loop, ...exitCond, ...brIf(1), ...body, ...br(0), ...end, ...end];
}

const sumLanesF32 = (acc: number) => [
  ...get(acc), ...op.f32x4Extract(0), ...get(acc), ...op.f32x4Extract(1), ...op.f32Add,
  ...get(acc), ...op.f32x4Extract(2), ...get(acc), ...op.f32x4Extract(3), ...op.f32Add, ...op.f32Add,
];

function dotF32(): WasmFunction {
  // Four classes per pass over a row: four independent accumulator chains (one chain is bound by the add
  // latency) and one row load shared by four weight loads. Remaining classes go one at a time.
  const WP1 = 14, WP2 = 15, WP3 = 16, ACC2 = 17, ACC3 = 18;
  const acc = [ACC0, ACC1, ACC2, ACC3];
  const wps = [WP, WP1, WP2, WP3];
  const madd = (a: number, w: number) => [...get(a), ...get(V), ...loadAt(w, D), ...op.f32x4Mul, ...op.f32x4Add, ...set(a)];
  const storeAcc = (a: number) => [...get(OUT), ...sumLanesF32(a), ...op.f32Store, ...inc(OUT, 4)];
  const four = [
    ...get(WP), ...get(ROW), ...i32Add, ...set(WP1),
    ...get(WP1), ...get(ROW), ...i32Add, ...set(WP2),
    ...get(WP2), ...get(ROW), ...i32Add, ...set(WP3),
    ...acc.flatMap((a) => [...op.v128Zero, ...set(a)]),
    ...forLoop(D, get(ROW), 16, [...loadAt(ROWP, D), ...set(V), ...acc.flatMap((a, q) => madd(a, wps[q]))]),
    ...acc.flatMap(storeAcc),
    ...get(WP3), ...get(ROW), ...i32Add, ...set(WP),
    ...inc(J, 4),
  ];
  const one = [
    ...op.v128Zero, ...set(ACC0),
    ...forLoop(D, get(ROW), 16, [...loadAt(ROWP, D), ...set(V), ...madd(ACC0, WP)]),
    ...storeAcc(ACC0),
    ...inc(WP, get(ROW)),
    ...inc(J, 1),
  ];
  return {
    name: 'dotF32',
    params: PARAMS,
    locals: [I32, I32, I32, I32, I32, V128, V128, V128, I32, I32, I32, V128, V128],
    body: forLoop(I, get(N), 1, [
      ...get(X), ...get(I), ...get(ROW), ...i32Mul, ...i32Add, ...set(ROWP),
      ...get(W), ...set(WP),
      ...i32Const(0), ...set(J),
      ...whileNot([...get(J), ...i32Const(4), ...i32Add, ...get(K), ...op.i32GtU], four),
      ...whileNot([...get(J), ...get(K), ...i32GeU], one),
    ]),
  };
}

const sumLanesI32 = (acc: number) => [
  ...get(acc), ...op.i32x4Extract(0), ...get(acc), ...op.i32x4Extract(1), ...i32Add,
  ...get(acc), ...op.i32x4Extract(2), ...get(acc), ...op.i32x4Extract(3), ...i32Add, ...i32Add,
];

function dotI8(): WasmFunction {
  // 16 int8 values widen to two i16x8 halves (once per row step, shared by four classes); each half meets 8 int16
  // weights in one pairwise dot into i32x4. Weights are int16, so class rows are 2 x rowBytes apart.
  const WP1 = 14, WP2 = 15, WP3 = 16, ACC2 = 17, ACC3 = 18, LO = 19, HI = 20;
  const acc = [ACC0, ACC1, ACC2, ACC3];
  const wps = [WP, WP1, WP2, WP3];
  const wStride = [...get(ROW), ...get(ROW), ...i32Add];
  const widen = [...loadAt(ROWP, D), ...set(V), ...get(V), ...op.i16x8ExtendLowI8x16, ...set(LO), ...get(V), ...op.i16x8ExtendHighI8x16, ...set(HI)];
  const madd = (a: number, w: number) => [
    ...get(a), ...get(LO), ...loadAt(w, D, 0, true), ...op.i32x4DotI16x8, ...op.i32x4Add,
    ...get(HI), ...loadAt(w, D, 16, true), ...op.i32x4DotI16x8, ...op.i32x4Add, ...set(a),
  ];
  const storeAcc = (a: number) => [...get(OUT), ...sumLanesI32(a), ...op.i32Store, ...inc(OUT, 4)];
  const four = [
    ...get(WP), ...wStride, ...i32Add, ...set(WP1),
    ...get(WP1), ...wStride, ...i32Add, ...set(WP2),
    ...get(WP2), ...wStride, ...i32Add, ...set(WP3),
    ...acc.flatMap((a) => [...op.v128Zero, ...set(a)]),
    ...forLoop(D, get(ROW), 16, [...widen, ...acc.flatMap((a, q) => madd(a, wps[q]))]),
    ...acc.flatMap(storeAcc),
    ...get(WP3), ...wStride, ...i32Add, ...set(WP),
    ...inc(J, 4),
  ];
  const one = [
    ...op.v128Zero, ...set(ACC0),
    ...forLoop(D, get(ROW), 16, [...widen, ...madd(ACC0, WP)]),
    ...storeAcc(ACC0),
    ...inc(WP, wStride),
    ...inc(J, 1),
  ];
  return {
    name: 'dotI8',
    params: PARAMS,
    locals: [I32, I32, I32, I32, I32, V128, V128, V128, I32, I32, I32, V128, V128, V128, V128],
    body: forLoop(I, get(N), 1, [
      ...get(X), ...get(I), ...get(ROW), ...i32Mul, ...i32Add, ...set(ROWP),
      ...get(W), ...set(WP),
      ...i32Const(0), ...set(J),
      ...whileNot([...get(J), ...i32Const(4), ...i32Add, ...get(K), ...op.i32GtU], four),
      ...whileNot([...get(J), ...get(K), ...i32GeU], one),
    ]),
  };
}

/** 64 KiB pages the scratch memory may grow to (2 GiB): rows are streamed through it in chunks. */
export const MAX_PAGES = 32768;

export const SIMD_MODULE: Uint8Array<ArrayBuffer> = encodeModule([dotF32(), dotI8()], MAX_PAGES);
