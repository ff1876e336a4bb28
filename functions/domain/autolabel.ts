// Auto-labeling the confident rest, with a guarantee: "label every remaining image the model is sure about at
// >= P precision". The trainer leaves, at every retrain, the basis of the decision in the bucket: the calibrated
// held-out (out-of-fold) prediction of every human label (right or wrong) and the model's class and calibrated
// confidence for every unlabeled sample above MIN_CANDIDATE_CONFIDENCE. Auto-labeling picks the threshold from the
// held-out predictions with a binomial bound and fixed-sequence testing (learning/precision-bound.ts), labels the
// unlabeled samples at or above it as `source: 'model'` with their confidence, and records the batch so that the
// whole batch can be undone. Model labels are never trained on (retrain.ts) and never exported unless asked.

import { badRequest, ConditionFailed, notFound, WinnowError } from './errors.js';
import { carriedThreshold } from './learning/coverage-threshold.js';
import { DEFAULT_DELTA, pickThreshold, type ThresholdChoice } from './learning/precision-bound.js';
import type { Annotation, LabelHead, Project, Sample } from './model.js';
import type { BlobStore, Stores } from './ports.js';
import { getProject } from './projects.js';
import { servingMemory } from './serving/head-memory.js';

/** Unlabeled samples below this confidence are not kept as candidates (no useful promise goes that low). */
export const MIN_CANDIDATE_CONFIDENCE = 0.5;
export const DEFAULT_AUTOLABEL_PRECISION = 0.98;
/** Promises accepted: from 0.5 (anything lower is a coin toss) to 0.999. */
export const MIN_PRECISION = 0.5;
export const MAX_PRECISION = 0.999;
/** Labeler id of model labels: `autolabel:<batchId>` (a user id never contains ':'). */
export const MODEL_LABELER_PREFIX = 'autolabel:';

export interface AutolabelBasis {
  projectId: string;
  /** Ranking generation of the retrain that wrote it. */
  generation: number;
  createdAt: string;
  classes: number;
  /** Human labels the model was trained on. */
  humanLabels: number;
  /** Calibrated out-of-fold confidence of the predicted class per human label, and whether it was the label's class. */
  heldOut: { confidence: number[]; correct: (0 | 1)[] };
  /** Unlabeled samples with confidence >= MIN_CANDIDATE_CONFIDENCE, most confident first. */
  candidates: { sampleIds: string[]; classes: number[]; confidences: number[] };
  /**
   * Per threshold of THRESHOLD_GRID, the final model's threshold that labels the same share of the pool as the fold
   * models behind `heldOut` at it (learning/coverage-threshold.ts); absent in bases written before it (then the
   * certified threshold applies as it is).
   */
  finalThresholds?: number[];
}

export interface AutolabelBatch {
  batchId: string;
  projectId: string;
  createdAt: string;
  createdBy: string;
  precision: number;
  /** What a sample's confidence had to reach (the held-out threshold carried to the final model's scale). */
  threshold: number;
  /** The threshold the held-out predictions certify; `threshold` is never lower (absent in batches made before it). */
  heldOutThreshold?: number;
  /** Held-out support of the threshold: count, right, estimate, bounds. */
  heldOut: number;
  correct: number;
  estimatedPrecision: number;
  lowerBound: number;
  interval: { low: number; high: number };
  delta: number;
  generation: number;
  /** Samples labeled, with the version the label moved them to (undo checks it is still the head). */
  samples: { sampleId: string; version: number; classIndex: number; confidence: number }[];
  /** Candidates above the threshold left alone: labeled or leased meanwhile. */
  skipped: number;
  undoneAt?: string;
  undoneBy?: string;
}

export type AutolabelReport = Omit<AutolabelBatch, 'samples'> & { labeled: number };

export interface AutolabelPreview {
  precision: number;
  /** No threshold can promise the precision yet (too few human labels above any threshold, or not precise enough). */
  possible: boolean;
  threshold?: number;
  heldOutThreshold?: number;
  heldOut?: number;
  correct?: number;
  estimatedPrecision?: number;
  lowerBound?: number;
  interval?: { low: number; high: number };
  delta: number;
  /** Unlabeled samples at or above the threshold as of the last retrain. */
  wouldLabel: number;
  humanLabels: number;
  generation: number;
  /** Why not possible, in words an owner can act on. */
  reason?: string;
}

export const autolabelKeys = {
  basis: (projectId: string) => `autolabel/${projectId}/basis.json`,
  batch: (projectId: string, batchId: string) => `autolabel/${projectId}/batches/${batchId}.json`,
  batchesPrefix: (projectId: string) => `autolabel/${projectId}/batches/`,
};

/** True for a label the model wrote (also when a repair rebuilt the head from the annotation log). */
export function isModelLabel(label: Pick<LabelHead, 'labelerId' | 'source'> | undefined): boolean {
  return !!label && (label.source === 'model' || label.labelerId.startsWith(MODEL_LABELER_PREFIX));
}

export async function saveAutolabelBasis(blobs: BlobStore, basis: AutolabelBasis): Promise<void> {
  await blobs.put(autolabelKeys.basis(basis.projectId), new TextEncoder().encode(JSON.stringify(basis)), 'application/json');
}

export async function loadAutolabelBasis(blobs: BlobStore, projectId: string): Promise<AutolabelBasis | undefined> {
  const got = await blobs.get(autolabelKeys.basis(projectId));
  return got ? (JSON.parse(new TextDecoder().decode(got.body)) as AutolabelBasis) : undefined;
}

export function checkPrecision(precision: unknown): number {
  const p = typeof precision === 'string' ? Number(precision) : precision;
  if (typeof p !== 'number' || !Number.isFinite(p) || p < MIN_PRECISION || p > MAX_PRECISION) {
    throw badRequest(`precision must be a number from ${MIN_PRECISION} to ${MAX_PRECISION} (e.g. 0.98), got ${JSON.stringify(precision)}`);
  }
  return p;
}

/** The threshold certified on the held-out predictions, and `cut`: the same on the final model's scale (what candidates are held to). */
function choose(basis: AutolabelBasis, precision: number): (ThresholdChoice & { cut: number }) | undefined {
  const heldOut = basis.heldOut.confidence.map((confidence, i) => ({ confidence, correct: basis.heldOut.correct[i] === 1 }));
  const choice = pickThreshold(heldOut, precision, { delta: DEFAULT_DELTA });
  return choice && { ...choice, cut: carriedThreshold(choice.threshold, basis.finalThresholds) };
}

/** The chosen threshold with its held-out support, as previews and batches report it. */
function support(choice: ThresholdChoice & { cut: number }) {
  return {
    threshold: choice.cut,
    heldOutThreshold: choice.threshold,
    heldOut: choice.heldOut,
    correct: choice.correct,
    estimatedPrecision: choice.estimate,
    lowerBound: choice.lowerBound,
    interval: choice.interval,
  };
}

async function requireBasis(stores: Stores, projectId: string): Promise<AutolabelBasis> {
  const basis = await loadAutolabelBasis(stores.blobs, projectId);
  if (!basis) {
    throw new WinnowError('conflict', 'the model has not been trained with enough labels yet: label more images (at least 8, two classes) and try again');
  }
  return basis;
}

/** Why no threshold can promise precision `p` (choose found none). */
function noThresholdReason(p: number): string {
  const needed = Math.ceil(Math.log(DEFAULT_DELTA) / Math.log(p));
  return (
    `the held-out predictions cannot show ${pct(p)} precision at any threshold yet (it takes at least ${needed} ` +
    `held-out predictions above the threshold, nearly all right): label more images or ask for a lower precision`
  );
}

/** What auto-labeling at `precision` would do now, without writing anything. */
export async function previewAutolabel(stores: Stores, projectId: string, precision = DEFAULT_AUTOLABEL_PRECISION): Promise<AutolabelPreview> {
  const p = checkPrecision(precision);
  await getProject(stores, projectId);
  const basis = await requireBasis(stores, projectId);
  const choice = choose(basis, p);
  const base = { precision: p, delta: DEFAULT_DELTA, humanLabels: basis.humanLabels, generation: basis.generation };
  if (!choice) return { ...base, possible: false, wouldLabel: 0, reason: noThresholdReason(p) };
  return {
    ...base,
    possible: true,
    ...support(choice),
    wouldLabel: basis.candidates.confidences.filter((c) => c >= choice.cut).length,
  };
}

/**
 * Labels every unlabeled, unleased sample whose confidence (as of the last retrain) reaches the threshold that
 * guarantees `precision`, as one batch. Throws a conflict (with the reason) when no threshold can promise it.
 */
export async function runAutolabel(
  stores: Stores,
  projectId: string,
  opts: { precision?: number; by: string },
): Promise<AutolabelReport & { sampleIds: string[] }> {
  const precision = checkPrecision(opts.precision ?? DEFAULT_AUTOLABEL_PRECISION);
  const project = await getProject(stores, projectId);
  if (project.taskType !== 'single-label') throw badRequest(`auto-labeling is for single-label projects (this one is ${project.taskType})`);
  const basis = await requireBasis(stores, projectId);
  if (basis.classes !== project.classes.length) {
    throw new WinnowError('conflict', 'the project classes changed since the last retrain: wait for the model to retrain and try again');
  }
  const choice = choose(basis, precision);
  if (!choice) {
    throw new WinnowError('conflict', `cannot auto-label at ${pct(precision)}: ${noThresholdReason(precision)}`, { humanLabels: basis.humanLabels });
  }
  const nowMs = stores.clock.now();
  const createdAt = new Date(nowMs).toISOString();
  const batchId = `${createdAt.replace(/[-:.TZ]/g, '').slice(0, 14)}-${Math.random().toString(36).slice(2, 8)}`;
  const labelerId = `${MODEL_LABELER_PREFIX}${batchId}`;
  const picked: { sampleId: string; classIndex: number; confidence: number }[] = [];
  for (let i = 0; i < basis.candidates.sampleIds.length; i++) {
    if (basis.candidates.confidences[i] < choice.cut) continue;
    picked.push({ sampleId: basis.candidates.sampleIds[i], classIndex: basis.candidates.classes[i], confidence: basis.candidates.confidences[i] });
  }
  const batch: AutolabelBatch = {
    batchId,
    projectId,
    createdAt,
    createdBy: opts.by,
    precision,
    ...support(choice),
    delta: choice.delta,
    generation: basis.generation,
    samples: [],
    skipped: 0,
  };
  // The batch record is written first (and again at the end): an interrupted run can still be undone.
  await saveBatch(stores.blobs, batch);
  for (let start = 0; start < picked.length; start += 100) {
    const chunk = picked.slice(start, start + 100);
    const samples = new Map((await stores.samples.getSamples(projectId, chunk.map((c) => c.sampleId))).map((s) => [s.sampleId, s]));
    for (const c of chunk) {
      const sample = samples.get(c.sampleId);
      // Only samples nobody labeled and nobody is labeling right now.
      if (!sample || sample.label || sample.labeledBy.length > 0 || (sample.lease && sample.lease.until > nowMs)) {
        batch.skipped++;
        continue;
      }
      const written = await writeModelLabel(stores, project, sample, c, labelerId, batchId, createdAt);
      if (written) batch.samples.push({ ...c, version: written.version });
      else batch.skipped++;
    }
    if (start + 100 < picked.length) await saveBatch(stores.blobs, batch);
  }
  await saveBatch(stores.blobs, batch);
  return { ...report(batch), sampleIds: batch.samples.map((s) => s.sampleId) };
}

async function writeModelLabel(
  stores: Stores,
  project: Project,
  sample: Sample,
  c: { classIndex: number; confidence: number },
  labelerId: string,
  batchId: string,
  at: string,
): Promise<Sample | undefined> {
  const projectId = project.id;
  const confidences = project.classes.map((_, j) => (j === c.classIndex ? 1 : 0));
  const annotation: Annotation = {
    projectId,
    sampleId: sample.sampleId,
    version: sample.version,
    kind: 'label',
    labelerId,
    confidences,
    ambiguous: false,
    before: { labeledBy: sample.labeledBy },
    requestId: `${labelerId}:${sample.sampleId}`,
    at,
  };
  const { created } = await stores.annotations.append(annotation);
  if (!created) return undefined; // someone wrote this version first
  const label: LabelHead = { confidences, ambiguous: false, labelerId, at, source: 'model', modelConfidence: round(c.confidence), batchId };
  try {
    const next = await stores.samples.advance(projectId, sample.sampleId, sample.version, { label, labeledBy: [labelerId] });
    servingMemory(stores.samples).learn(next, stores.clock.now());
    return next;
  } catch (err) {
    if (err instanceof ConditionFailed) return undefined;
    throw err;
  }
}

/**
 * Takes the whole batch back: every sample whose head is still this batch's label returns to unlabeled (and to the
 * queue), through an undo record in its history. Samples someone relabeled since keep their label (`kept`).
 */
export async function undoAutolabel(
  stores: Stores,
  projectId: string,
  batchId: string,
  by: string,
): Promise<{ batchId: string; restored: number; kept: number; sampleIds: string[] }> {
  const project = await getProject(stores, projectId);
  const batch = await loadBatch(stores.blobs, projectId, batchId);
  if (!batch) throw notFound(`auto-label batch "${batchId}" in project "${projectId}"`);
  let restored = 0;
  let kept = 0;
  const sampleIds: string[] = [];
  const at = new Date(stores.clock.now()).toISOString();
  for (let start = 0; start < batch.samples.length; start += 100) {
    const chunk = batch.samples.slice(start, start + 100);
    const samples = new Map((await stores.samples.getSamples(projectId, chunk.map((c) => c.sampleId))).map((s) => [s.sampleId, s]));
    for (const entry of chunk) {
      const sample = samples.get(entry.sampleId);
      if (!sample || sample.label?.batchId !== batchId || !isModelLabel(sample.label)) {
        kept++;
        continue;
      }
      const record: Annotation = {
        projectId,
        sampleId: sample.sampleId,
        version: sample.version,
        kind: 'undo',
        labelerId: `${MODEL_LABELER_PREFIX}${batchId}`,
        confidences: [],
        ambiguous: false,
        undoes: entry.version - 1,
        restores: { labeledBy: [] },
        before: { label: sample.label, labeledBy: sample.labeledBy },
        requestId: `undo:${batchId}:${sample.sampleId}`,
        at,
      };
      const { created } = await stores.annotations.append(record);
      if (!created) {
        kept++;
        continue;
      }
      try {
        const next = await stores.samples.advance(projectId, sample.sampleId, sample.version, { labeledBy: [], queueKey: sample.order });
        servingMemory(stores.samples).learn(next, stores.clock.now());
        sampleIds.push(sample.sampleId);
        restored++;
      } catch (err) {
        if (!(err instanceof ConditionFailed)) throw err;
        kept++;
      }
    }
  }
  batch.undoneAt = at;
  batch.undoneBy = by;
  await saveBatch(stores.blobs, batch);
  return { batchId, restored, kept, sampleIds };
}

/** Every batch of the project, newest first (without the sample lists). */
export async function listAutolabelBatches(stores: Stores, projectId: string): Promise<AutolabelReport[]> {
  await getProject(stores, projectId);
  const out: AutolabelReport[] = [];
  let cursor: string | undefined;
  do {
    const page = await stores.blobs.list(autolabelKeys.batchesPrefix(projectId), { cursor });
    for (const o of page.items) {
      const got = await stores.blobs.get(o.key);
      if (got) out.push(report(JSON.parse(new TextDecoder().decode(got.body)) as AutolabelBatch));
    }
    cursor = page.cursor;
  } while (cursor);
  return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.batchId.localeCompare(a.batchId));
}

async function saveBatch(blobs: BlobStore, batch: AutolabelBatch): Promise<void> {
  await blobs.put(autolabelKeys.batch(batch.projectId, batch.batchId), new TextEncoder().encode(JSON.stringify(batch)), 'application/json');
}

async function loadBatch(blobs: BlobStore, projectId: string, batchId: string): Promise<AutolabelBatch | undefined> {
  if (!/^[0-9a-z-]{1,64}$/.test(batchId)) throw badRequest(`batch id must be letters, digits and '-' (got "${batchId}")`);
  const got = await blobs.get(autolabelKeys.batch(projectId, batchId));
  return got ? (JSON.parse(new TextDecoder().decode(got.body)) as AutolabelBatch) : undefined;
}

function report(batch: AutolabelBatch): AutolabelReport {
  const { samples, ...rest } = batch;
  return { ...rest, labeled: samples.length };
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;
const pct = (p: number) => `${(p * 100).toFixed(1).replace(/\.0$/, '')}%`;
