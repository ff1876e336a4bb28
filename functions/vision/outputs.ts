// Turning raw model outputs into what the product uses: unit-length embeddings and named class probabilities.

import type { EmbeddingOutput } from './manifest.js';
import type { ItemOutputs } from './onnx.js';

/** Scales the vector to unit length (cosine similarity = dot product); an all-zero vector stays zero. */
export function l2normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  const out = new Float32Array(v.length);
  if (sum === 0) return out;
  const inv = 1 / Math.sqrt(sum);
  for (let i = 0; i < v.length; i++) out[i] = v[i] * inv;
  return out;
}

/** The image embedding from one item's outputs: a [dims] vector, or one token of a [tokens, dims] sequence. */
export function embeddingOf(spec: EmbeddingOutput, outputs: ItemOutputs): Float32Array {
  const out = outputs[spec.name];
  const last = out.dims[out.dims.length - 1];
  if (last !== spec.dims) throw new Error(`output ${spec.name} has ${last} values per token, manifest says ${spec.dims}`);
  const token = spec.token ?? 0;
  if (out.dims.length === 1 && token !== 0) throw new Error(`output ${spec.name} has no token axis`);
  return l2normalize(out.data.subarray(token * spec.dims, (token + 1) * spec.dims));
}

/** Softmax over logits, then the `k` most probable classes, best first. */
export function topClasses(logits: Float32Array, labels: readonly string[], k: number): { name: string; classIndex: number; probability: number }[] {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  const exp = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += exp[i] = Math.exp(logits[i] - max);
  const order = Array.from(exp.keys()).sort((a, b) => exp[b] - exp[a]).slice(0, k);
  return order.map((i) => ({ name: labels[i] ?? `class ${i}`, classIndex: i, probability: exp[i] / sum }));
}
