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
export { type CalibratedTraining, type TrainOptions, autoLambda, LAMBDA_PER_LABEL, MIN_CALIBRATION_LABELS, servedCalibration, trainCalibrated, trainSoftmax } from './train.js';
export {
  type Calibration,
  type CalibratedFit,
  type OutOfFold,
  applyTemperature,
  embeddingCenter,
  expectedCalibrationError,
  fitCalibrated,
  fitTemperature,
} from './calibration.js';
export {
  type HeldOutPrediction,
  type ThresholdChoice,
  binomialUpperTail,
  clopperPearsonLower,
  clopperPearsonUpper,
  DEFAULT_DELTA,
  pickThreshold,
  THRESHOLD_GRID,
} from './precision-bound.js';
export { scoreAll, scoreRows } from './scoring.js';
export { carriedThreshold, COVERAGE_SAMPLE, finalModelThresholds } from './coverage-threshold.js';
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
export {
  type MislabelOptions,
  type Neighbour,
  type SuspectLabel,
  confidentLearningSuspects,
  likelyMislabeled,
  MAX_SUSPECT_PROBABILITY,
  nearestNeighbours,
  suspectsFromOutOfFold,
} from './review.js';
