// Ranked queues are stored with their probabilities as fp16: 2000 samples x 10 classes = 40 KB, well inside a
// DynamoDB item. Probabilities need no more precision than that for suggestions and the live error.

import { float32ToHalf, halfToFloat32 } from '../domain/half.js';
import type { RetrainPorts } from '../domain/retrain.js';

export const RANKING_SK = 'q#ranked';
/** Keep the stored item under ~350 KB whatever the class count. */
export const MAX_PROB_BYTES = 350_000;

/** The retrain use case's ports: the stored ranking's size cap. */
export const rankingRetrainPorts: RetrainPorts = { maxProbBytes: MAX_PROB_BYTES };

export function encodeProbs(probs: Float32Array): Uint8Array {
  const half = float32ToHalf(probs);
  return new Uint8Array(half.buffer, half.byteOffset, half.byteLength);
}

export function decodeProbs(bytes: Uint8Array): Float32Array {
  const copy = bytes.slice();
  return halfToFloat32(new Uint16Array(copy.buffer, copy.byteOffset, copy.byteLength / 2));
}
