// Ranked queues are stored with their probabilities as fp16: 2000 samples x 10 classes = 40 KB, well inside a
// DynamoDB item. Probabilities need no more precision than that for suggestions and the live error.

export const RANKING_SK = 'q#ranked';
/** Keep the stored item under ~350 KB whatever the class count. */
export const MAX_PROB_BYTES = 350_000;

export function encodeProbs(probs: Float32Array): Uint8Array {
  const half = new Uint16Array(probs.length);
  for (let i = 0; i < probs.length; i++) half[i] = toHalf(probs[i]);
  return new Uint8Array(half.buffer);
}

export function decodeProbs(bytes: Uint8Array): Float32Array {
  const copy = bytes.slice();
  const half = new Uint16Array(copy.buffer, copy.byteOffset, copy.byteLength / 2);
  const out = new Float32Array(half.length);
  for (let i = 0; i < half.length; i++) out[i] = fromHalf(half[i]);
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function toHalf(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (exp <= 0) return exp < -10 ? sign : sign | ((mant | 0x800000) >> (1 - exp + 13));
  if (exp >= 31) return sign | 0x7c00;
  return sign | (exp << 10) | (mant >> 13);
}

function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
