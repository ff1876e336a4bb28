// Winnow's learning core: pure TypeScript (plus a hand-assembled WebAssembly SIMD kernel), no I/O, deterministic.
// The trainer worker: build `Embeddings`, `trainSoftmax`, then `rank(strategy, ...)` to refresh the queue.

export {
  type Embeddings,
  type F32Embeddings,
  type I8Embeddings,
  createI8Embeddings,
  embeddingsFromVectors,
  float16ToFloat32,
  normalizeRows,
  quantizeEmbeddings,
  rowInto,
  setRowI8,
} from './embeddings.js';
export { type TrainingLabel, type TrainingSet, buildTrainingSet } from './targets.js';
export { type SoftmaxModel, type FitReport } from './softmax.js';
export { type TrainOptions, autoLambda, LAMBDA_PER_LABEL, trainSoftmax } from './train.js';
export { scoreAll, scoreRows } from './scoring.js';
export { type Clustering, kmeans } from './kmeans.js';
export {
  type Ranking,
  type RankInput,
  type StrategyName,
  DEFAULT_STRATEGY,
  isStrategy,
  rank,
  STRATEGIES,
  STRATEGY_DESCRIPTIONS,
} from './strategies.js';
export { entropyUncertainty, marginUncertainty, originScore } from './uncertainty.js';
export { type LiveErrorPoint, type LiveErrorSample, type LiveErrorSeries, liveErrorPoint, liveErrorSeries } from './live-error.js';
export { type Neighbour, type SuspectLabel, likelyMislabeled, nearestNeighbours } from './review.js';
