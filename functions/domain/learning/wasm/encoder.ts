// A minimal WebAssembly binary writer: just enough to assemble the SIMD dot-product kernels in `simd-module.ts`.
// Written by hand so the learning core needs no toolchain or binary blob; the kernels are tested against plain JS.

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

export function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

export function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

const simd = (code: number, ...imm: number[]) => [0xfd, ...uleb(code), ...imm];

/** The instructions the kernels use, as byte sequences. Memory arguments are (log2 align, offset). */
export const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  get: (local: number) => [0x20, ...uleb(local)],
  set: (local: number) => [0x21, ...uleb(local)],
  i32Const: (v: number) => [0x41, ...sleb(v)],
  i32Add: [0x6a],
  i32Mul: [0x6c],
  i32GeU: [0x4f],
  i32GtU: [0x4b],
  f32Load: [0x2a, 2, 0],
  f32Store: [0x38, 2, 0],
  i32Store: [0x36, 2, 0],
  f32Add: [0x92],
  v128Load: (offset = 0) => simd(0x00, 4, ...uleb(offset)),
  v128Store: simd(0x0b, 4, 0),
  v128Zero: simd(0x0c, ...new Array(16).fill(0)),
  f32x4Splat: simd(0x13),
  f32x4Extract: (lane: number) => simd(0x1f, lane),
  f32x4Add: simd(0xe4),
  f32x4Mul: simd(0xe6),
  i32x4Extract: (lane: number) => simd(0x1b, lane),
  i32x4Add: simd(0xae),
  i32x4DotI16x8: simd(0xba),
  i16x8ExtendLowI8x16: simd(0x87),
  i16x8ExtendHighI8x16: simd(0x88),
};

export interface WasmFunction {
  name: string;
  params: number[];
  /** Extra locals after the params, by type. */
  locals: number[];
  body: number[];
}

const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
const name = (s: string) => vec([...s].map((c) => [c.charCodeAt(0)]));

/** A module exporting `memory` (growable to `maxPages` of 64 KiB) and the given functions (no results). */
export function encodeModule(functions: WasmFunction[], maxPages: number): Uint8Array<ArrayBuffer> {
  const types = functions.map((f) => [0x60, ...vec(f.params.map((p) => [p])), 0]);
  const exports = [
    [...name('memory'), 0x02, 0],
    ...functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]),
  ];
  const codes = functions.map((f) => {
    const locals = vec(f.locals.map((t) => [1, t]));
    const body = [...locals, ...f.body, ...op.end];
    return [...uleb(body.length), ...body];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(5, vec([[0x01, ...uleb(1), ...uleb(maxPages)]])),
    ...section(7, vec(exports)),
    ...section(10, vec(codes)),
  ]);
}
