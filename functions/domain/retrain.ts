// One retrain of one project: embeddings from the shard files (only new shards are fetched), labels from the
// labeled sample heads (read once, then only the samples that changed), fit warm-started from the last model, rank
// with the project's strategy, and replace the ranked queue. Serving reads the queue and never waits for this.

import { topClass } from './label-validation.js';
import { auditRate, inAuditSet, outOfFoldAuditSums, withUniformAuditRows } from './learning/audit.js';
import {
  DEFAULT_STRATEGY,
  finalModelThresholds,
  float16ToFloat32,
  isStrategy,
  normalizeRows,
  rank,
  scoreAll,
  servedCalibration,
  suspectsFromOutOfFold,
  trainCalibrated,
  trainSoftmax,
  type CalibratedTraining,
  type Clustering,
  type Embeddings,
  type SoftmaxModel,
  type TrainingLabel,
} from './learning/index.js';
import { saveLiveClassifier } from './classifier-store.js';
import { type AutolabelBasis, isModelLabel, MIN_CANDIDATE_CONFIDENCE, saveAutolabelBasis } from './autolabel.js';
import type { LabelHead, Project, RankedQueue } from './model.js';
import type { EmbeddingMatrix, EmbeddingSource, EmbeddingStore, Stores } from './ports.js';
import { auditDrawOf, labeledHeads } from './labeled-heads.js';
import type { SimilarIndexState } from './similar.js';

/** What a trainer keeps between runs of one project (in the local worker's memory, or a warm Lambda's). */
export interface ProjectTrainingState {
  reader?: EmbeddingSource;
  matrix?: EmbeddingMatrix;
  embeddings?: Embeddings;
  rowOf?: Map<string, number>;
  /** Current label head per labeled sample. */
  labels?: Map<string, LabelHead>;
  /** The labeled samples served as audit draws (labeled-heads.ts `auditDrawOf`), and whether the heads can say. */
  auditDraws?: Set<string>;
  drawsKnown?: boolean;
  model?: SoftmaxModel;
  modelClasses?: number;
  clustering?: Clustering;
  /** The look-alike index of these embeddings (similar.ts), built after a retrain in a process that serves look-ups. */
  similar?: SimilarIndexState;
}

export interface RetrainResult {
  generation: number;
  coldStart: boolean;
  labels: number;
  samples: number;
  ms: { load: number; train: number; rank: number; total: number };
}

export interface RetrainOptions {
  embedder: string;
  /** Sample ids whose labels changed since the last run (every labeled sample is read on the first run anyway). */
  changed?: string[];
  /** Labels expected before the next retrain (sizes the diverse head of the ranking). */
  batchSize?: number;
  /** The deployment's audit rate for projects without their own (default DEFAULT_AUDIT_RATE, as serving's). */
  auditRate?: number;
}

/** What a retrain needs to know beyond the Stores (whose `embeddings` it reads): the ranking store's room for probabilities. */
export interface RetrainPorts {
  /** The most bytes of probabilities one stored ranking holds (its rows are capped to fit). */
  maxProbBytes: number;
}

/** Unlabeled audit-set samples kept in a stored ranking at most (a uniform sample of them when there are more). */
const AUDIT_ROWS = 400;

export async function retrainProject(
  stores: Stores,
  ports: RetrainPorts,
  project: Project,
  state: ProjectTrainingState,
  opts: RetrainOptions,
): Promise<RetrainResult | undefined> {
  const t0 = performance.now();
  await stores.embeddings.compact(project.id, opts.embedder).catch(() => undefined); // best effort
  const matrix = await loadEmbeddings(stores.embeddings, project.id, state, opts.embedder);
  if (matrix.rows === 0) return undefined;
  await refreshLabels(stores, project, state, opts.changed);
  const t1 = performance.now();

  const embeddings = state.embeddings!;
  const rowOf = state.rowOf!;
  const classes = project.classes.length;
  const rate = auditRate(project.auditRate, opts.auditRate);
  const training: TrainingLabel[] = [];
  const labeledRows: number[] = [];
  const perClass = new Float64Array(classes);
  for (const [sampleId, head] of state.labels!) {
    const row = rowOf.get(sampleId);
    if (row === undefined) continue;
    labeledRows.push(row);
    // Auto-labels (written by an earlier model) are never trained on: the model would only learn its own guesses,
    // and its held-out predictions, which calibrate it and back the auto-label guarantee, must be of human labels.
    if (isModelLabel(head)) continue;
    // The samples served as audit draws (lease-walk.ts) are the uniform random sample the temperature fit and the
    // accuracy figure read as the pool's (calibration.ts auditTemperatureWeights, audit.ts). As served, not as the
    // audit set is today: a sample an owner labeled in the gallery, or one active learning served before the audit
    // rate changed, is no random draw. Counts kept from before the quality sums cannot say: the audit set then.
    const audit = state.drawsKnown === false ? inAuditSet(sampleId, rate, project.auditSalt) : state.auditDraws!.has(sampleId);
    training.push({ row, confidences: head.confidences, ambiguous: head.ambiguous, ...(audit ? { audit: true } : {}) });
    const top = topClass(head.confidences);
    if (top >= 0 && !head.ambiguous) perClass[top]++;
  }
  const strategy = isStrategy(project.strategy) ? project.strategy : DEFAULT_STRATEGY;
  // Samples that already have all their labels (overlap) are not ranked again.
  let model: SoftmaxModel | undefined;
  let fit: CalibratedTraining | undefined;
  if (classes >= 2) {
    // The configuration bench:al measures: centred rows, penalty by 5-fold cross-validation, temperature
    // fitted on the out-of-fold predictions, which the mislabel finder reads smoothed over each sample's pool
    // neighbours (calibration.ts); the covariate-shift correction off when labels are drawn at random
    // (servedCalibration); below 8 labels a plain centred fit.
    const warmStart = state.modelClasses === classes ? state.model : undefined;
    fit = trainCalibrated(embeddings, training, { classes, warmStart, calibration: { ...servedCalibration(strategy), smoothOutOfFold: true } });
    model = fit?.model ?? trainSoftmax(embeddings, training, { classes, warmStart });
  }
  if (model) {
    state.model = model;
    state.modelClasses = classes;
  }
  const t2 = performance.now();

  const limit = Math.max(1, Math.min(2000, Math.floor(ports.maxProbBytes / (2 * Math.max(1, classes)))));
  // Scored once: the ranking and the auto-label candidates read the same calibrated probabilities.
  const probs = model ? scoreAll(model, embeddings) : undefined;
  const ranking = rank(strategy, {
    embeddings,
    labeled: labeledRows,
    model,
    probs,
    annotationsPerClass: perClass,
    limit,
    batchSize: opts.batchSize ?? 20,
    clustering: state.clustering,
    seed: 0,
  });
  state.clustering = ranking.clustering ?? state.clustering;
  // The audit set's rows in the stored ranking: a uniform sample of its unlabeled samples, whatever the pool's size.
  const stored =
    probs && !ranking.coldStart && rate > 0
      ? withUniformAuditRows({
          rows: ranking.rows, probs, classes, sampleIds: matrix.sampleIds, labeled: new Set(labeledRows), rate, salt: project.auditSalt, limit,
          auditRows: Math.min(AUDIT_ROWS, Math.floor(limit / 4)), seed: matrix.rows,
        })
      : { rows: ranking.rows, probs: ranking.probs };
  const suspects = fit ? mislabeledIds(fit, training, classes, matrix.sampleIds) : undefined;
  const heldOutAudits = fit ? outOfFoldAuditSums(fit, training, classes) : undefined;
  // Numbered from the stored ranking, not from this process's memory: another trainer may have written since.
  const generation = ((await stores.rankings.get(project.id))?.generation ?? 0) + 1;
  const queue: RankedQueue = {
    projectId: project.id,
    generation,
    createdAt: new Date(stores.clock.now()).toISOString(),
    strategy,
    coldStart: ranking.coldStart,
    labels: training.filter((l) => !l.ambiguous).length,
    classes,
    sampleIds: Array.from(stored.rows, (r) => matrix.sampleIds[r]),
    ...(stored.probs ? { probs: stored.probs } : {}),
    model: opts.embedder,
    ...(suspects ? { suspects } : {}),
    ...(heldOutAudits ? { heldOutAudits } : {}),
  };
  await stores.rankings.put(queue);
  // The model this ranking was scored with, for the classifier export (domain/classifier-store.ts).
  if (model) await saveLiveClassifier(stores.blobs, { projectId: project.id, generation, embedder: opts.embedder, createdAt: queue.createdAt, labels: queue.labels, samples: matrix.rows, model });
  if (fit && probs) {
    await saveAutolabelBasis(stores.blobs, autolabelBasis(project.id, generation, queue.createdAt, fit, training, probs, labeledRows, matrix.sampleIds, classes, embeddings));
  }
  const t3 = performance.now();
  return {
    generation,
    coldStart: ranking.coldStart,
    labels: queue.labels,
    samples: matrix.rows,
    ms: { load: t1 - t0, train: t2 - t1, rank: t3 - t2, total: t3 - t0 },
  };
}

/** The project's embeddings, fetching only shards not seen before; the normalised matrix is rebuilt on change. */
export async function loadEmbeddings(embeddingStore: EmbeddingStore, projectId: string, state: ProjectTrainingState, embedder: string) {
  if (state.reader && state.reader.model !== embedder) {
    // The project switched embedding models: vectors, clusters and weights of the old one no longer apply.
    state.reader = state.matrix = state.embeddings = state.rowOf = state.model = state.modelClasses = state.clustering = undefined;
  }
  state.reader ??= embeddingStore.source(projectId, embedder);
  const matrix = await state.reader.load();
  if (matrix !== state.matrix) {
    state.matrix = matrix;
    state.embeddings = { kind: 'f32', rows: matrix.rows, dim: matrix.dims, data: normalizeRows(float16ToFloat32(matrix.fp16), matrix.dims) };
    state.rowOf = new Map(matrix.sampleIds.map((id, i) => [id, i]));
    state.clustering = undefined; // depends on the pool
  }
  return matrix;
}

/** First run: every labeled sample's head (labeled-heads.ts). Later runs: only the samples that changed. */
async function refreshLabels(stores: Stores, project: Project, state: ProjectTrainingState, changed?: string[]) {
  if (!state.labels || !state.auditDraws || !changed) {
    const read = await labeledHeads(stores, project.id);
    state.labels = read.labels;
    state.auditDraws = read.auditDraws;
    state.drawsKnown = read.drawsKnown;
    return;
  }
  const unique = [...new Set(changed)];
  const heads = await stores.samples.getSamples(project.id, unique);
  const byId = new Map(heads.map((s) => [s.sampleId, s]));
  for (const id of unique) {
    const sample = byId.get(id);
    if (sample?.label) state.labels.set(id, sample.label);
    else state.labels.delete(id);
    if (sample?.label && auditDrawOf(sample)) state.auditDraws.add(id);
    else state.auditDraws.delete(id);
  }
}

/**
 * Labels the mislabel finder flags on this retrain's fit (review.ts): the out-of-fold model gives the label's class
 * under MAX_SUSPECT_PROBABILITY around the sample (its pool neighbours included) and under MAX_POINT_PROBABILITY at it.
 * Most suspicious first, at most 200.
 */
function mislabeledIds(fit: CalibratedTraining, training: TrainingLabel[], classes: number, sampleIds: string[]) {
  return suspectsFromOutOfFold(fit, training, classes)
    .slice(0, 200)
    .map((s) => ({
      sampleId: sampleIds[s.row],
      givenClass: s.givenClass,
      givenProbability: round(s.givenProbability),
      predictedClass: s.predictedClass,
      predictedProbability: round(s.predictedProbability),
      predictedThreshold: round(s.predictedThreshold),
    }));
}

/** What auto-labeling decides from (functions/domain/autolabel.ts): held-out predictions and unlabeled candidates. */
function autolabelBasis(
  projectId: string,
  generation: number,
  createdAt: string,
  fit: CalibratedTraining,
  training: TrainingLabel[],
  probs: Float32Array,
  labeledRows: number[],
  sampleIds: string[],
  C: number,
  embeddings: Embeddings,
): AutolabelBasis {
  const confidence: number[] = [];
  const correct: (0 | 1)[] = [];
  fit.labelIndex.forEach((labelPos, k) => {
    const p = fit.outOfFold.probs.subarray(k * C, (k + 1) * C);
    const predicted = topClass(p);
    confidence.push(round(p[predicted]));
    correct.push(predicted === topClass(training[labelPos].confidences) ? 1 : 0);
  });
  const labeled = new Uint8Array(sampleIds.length);
  for (const r of labeledRows) labeled[r] = 1;
  const found: { row: number; c: number; p: number }[] = [];
  for (let r = 0; r < sampleIds.length; r++) {
    if (labeled[r]) continue;
    let c = 0;
    for (let j = 1; j < C; j++) if (probs[r * C + j] > probs[r * C + c]) c = j;
    if (probs[r * C + c] >= MIN_CANDIDATE_CONFIDENCE) found.push({ row: r, c, p: probs[r * C + c] });
  }
  found.sort((a, b) => b.p - a.p || a.row - b.row);
  return {
    projectId,
    generation,
    createdAt,
    classes: C,
    humanLabels: fit.labelIndex.length,
    heldOut: { confidence, correct },
    candidates: { sampleIds: found.map((f) => sampleIds[f.row]), classes: found.map((f) => f.c), confidences: found.map((f) => round(f.p)) },
    // Rounded up: a candidate's rounded confidence passes only if its own would have.
    finalThresholds: finalModelThresholds(fit, embeddings, probs, labeled).map((t) => Math.ceil(t * 1e4 - 1e-6) / 1e4),
  };
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;
