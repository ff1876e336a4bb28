// The ranking strategies a project can choose, by name, and the one ranking entry point the trainer calls.

import { coldStartOrder, roundRobin } from './cold-start.js';
import type { Embeddings } from './embeddings.js';
import { assignRows, type Clustering, kmeans } from './kmeans.js';
import { createRng } from './random.js';
import { scoreAll } from './scoring.js';
import { topK } from './select.js';
import type { SoftmaxModel } from './softmax.js';
import { entropyUncertainty, marginUncertainty, originScore } from './uncertainty.js';

export const STRATEGIES = ['random', 'origin', 'margin', 'entropy', 'cluster-margin', 'typical-cluster-margin'] as const;
export type StrategyName = (typeof STRATEGIES)[number];
export const DEFAULT_STRATEGY: StrategyName = 'typical-cluster-margin';

export const STRATEGY_DESCRIPTIONS: Record<StrategyName, string> = {
  random: 'uniformly random order (the baseline)',
  origin: 'origin score (1 - p(top)) / (labels of the top class + 1)',
  margin: 'smallest gap between the two most likely classes first',
  entropy: 'highest entropy of the class probabilities first',
  'cluster-margin': 'most uncertain samples, spread round-robin over k-means clusters of the pool',
  'typical-cluster-margin': 'representative samples of every cluster until 5 labels per class, then cluster-margin',
};

export function isStrategy(name: string): name is StrategyName {
  return (STRATEGIES as readonly string[]).includes(name);
}

export interface RankInput {
  embeddings: Embeddings;
  /** Rows already labeled (never ranked). */
  labeled: ArrayLike<number>;
  /** The current model; absent (or undefined) means cold start. */
  model?: SoftmaxModel;
  /** Labels per class so far (origin strategy); zeros when absent. */
  annotationsPerClass?: ArrayLike<number>;
  /** Length of the ranked list (default 2000). */
  limit?: number;
  /** Labels expected before the next retrain; sizes the diverse head of 'cluster-margin' (default 20). */
  batchSize?: number;
  seed?: number;
  /** Pool clustering from an earlier ranking (reuse it: it depends only on the embeddings). */
  clustering?: Clustering;
  /** scoreAll(model, embeddings) if the caller already has it. */
  probs?: Float32Array;
}

export interface Ranking {
  strategy: StrategyName;
  /** True when ranked without a model (cold start). */
  coldStart: boolean;
  /** Embedding rows, first = serve first. */
  rows: Int32Array;
  /** The strategy's score per ranked row (uncertainty, origin score, or typicality on cold start). */
  scores: Float32Array;
  /** Model probabilities per ranked row (rows.length x classes), absent on cold start. */
  probs?: Float32Array;
  /** The pool clustering used, for the caller to cache. */
  clustering?: Clustering;
}

/**
 * typical-cluster-margin serves representative samples (the cold-start order) until there are this many labels per
 * class: with a handful of labels the model's uncertainty mostly points at outliers, while typical samples teach
 * more (the low-budget finding of TypiClust, Hacohen et al. 2022).
 */
export const TYPICAL_PER_CLASS = 5;

/** cluster-margin spreads the batchSize x this many most uncertain samples over clusters (Citovsky et al. 2021). */
const CANDIDATES_PER_PICK = 10;

/** k for the pool map: about sqrt(pool), at least two per class, at most 50. */
export function clusterCount(rows: number, classes: number): number {
  return Math.min(rows, Math.max(2 * classes, Math.min(50, Math.round(Math.sqrt(rows)))));
}

export function rank(strategy: StrategyName, input: RankInput): Ranking {
  const { embeddings: e, model } = input;
  const limit = input.limit ?? 2000;
  const seed = input.seed ?? 0;
  const excluded = new Uint8Array(e.rows);
  for (let k = 0; k < input.labeled.length; k++) excluded[input.labeled[k]] = 1;
  const unlabeled = { excluded };
  const probs = model ? (input.probs ?? scoreAll(model, e)) : undefined;
  const C = model?.classes ?? input.annotationsPerClass?.length ?? 2;
  const result = (rows: Int32Array, scores: Float32Array, clustering?: Clustering): Ranking => ({
    strategy,
    coldStart: !model,
    rows,
    scores,
    ...(probs ? { probs: pick(probs, C, rows) } : {}),
    ...(clustering ? { clustering } : {}),
  });
  if (strategy === 'random') {
    const rng = createRng(seed);
    const keys = new Float32Array(e.rows).map(() => rng.next());
    const rows = topK(keys, limit, unlabeled);
    return result(rows, Float32Array.from(rows, (r) => keys[r]));
  }
  const clustering = () => input.clustering ?? kmeans(e, { k: clusterCount(e.rows, C), seed });
  const representative = strategy === 'typical-cluster-margin' && input.labeled.length < TYPICAL_PER_CLASS * C;
  if (!probs || representative) {
    const c = clustering();
    const order = coldStartOrder(e, c, Array.from(input.labeled), limit);
    return result(order.rows, order.scores, c);
  }
  const score =
    strategy === 'entropy'
      ? entropyUncertainty(probs, C)
      : strategy === 'origin'
        ? originScore(probs, C, input.annotationsPerClass ?? new Float32Array(C))
        : marginUncertainty(probs, C);
  if (strategy === 'margin' || strategy === 'entropy' || strategy === 'origin') {
    const rows = topK(score, limit, unlabeled);
    return result(rows, Float32Array.from(rows, (r) => score[r]));
  }
  const c = clustering();
  const head = clusterSpread(e, c, score, unlabeled, (input.batchSize ?? 20) * CANDIDATES_PER_PICK).slice(0, limit);
  const rest = Uint8Array.from(excluded);
  for (const r of head) rest[r] = 1;
  const tail = topK(score, limit - head.length, { excluded: rest });
  const rows = Int32Array.from([...head, ...tail]);
  return result(rows, Float32Array.from(rows, (r) => score[r]), c);
}

/** The `candidates` most uncertain rows, reordered round-robin over their clusters (most uncertain cluster first). */
function clusterSpread(e: Embeddings, c: Clustering, score: Float32Array, unlabeled: { excluded: Uint8Array }, candidates: number): number[] {
  const top = topK(score, candidates, unlabeled);
  const cluster = assignRows(e, c, top);
  const lists: number[][] = Array.from({ length: c.k }, () => []);
  top.forEach((row, i) => lists[cluster[i]].push(row)); // already most uncertain first
  const order = [...lists.keys()].filter((j) => lists[j].length > 0).sort((a, b) => score[lists[b][0]] - score[lists[a][0]] || a - b);
  const spread = roundRobin(order.map((j) => lists[j]), order.map((j) => lists[j].map((r) => score[r])), top.length);
  return Array.from(spread.rows);
}

function pick(probs: Float32Array, C: number, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * C);
  rows.forEach((r, k) => out.set(probs.subarray(r * C, (r + 1) * C), k * C));
  return out;
}
