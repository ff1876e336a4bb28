// The labeling domain: what a project, an image, a sample and an annotation are.
// No storage or transport concerns here: adapters translate these to DynamoDB items, S3 keys and JSON.

import type { AuditSums } from './learning/audit.js';

export type TaskType = 'single-label' | 'multi-label' | 'box-review';
export const TASK_TYPES: readonly TaskType[] = ['single-label', 'multi-label', 'box-review'];

export const DEFAULT_CONFIDENCE_LEVELS: readonly number[] = [0, 0.25, 0.5, 0.75, 1];

export interface Project {
  /** URL-safe id, also the folder under `uploads/` in the bucket. */
  id: string;
  name: string;
  classes: string[];
  taskType: TaskType;
  /** Confidence a labeler may give each class, ascending, within [0, 1]. */
  confidenceLevels: number[];
  /** Whether labelers may flag a sample as ambiguous. */
  allowAmbiguous: boolean;
  /** Active-learning ranking strategy (functions/domain/learning/strategies.ts); the default measured best. */
  strategy: string;
  /** How many distinct labelers must label each sample (1 = no overlap). */
  overlap: number;
  /** Share of served samples drawn uniformly at random for the accuracy audit (default: learning/audit.ts). */
  auditRate?: number;
  /**
   * Mixed into the audit-set hash (learning/audit.ts `inAuditSet`): each project's audit set is its own draw, which
   * nobody can work out from the image names. Set at creation, never changed, never sent to clients
   * (projects.ts `clientProject`). Absent on projects made before it: the plain hash of the sample id.
   */
  auditSalt?: string;
  /** User ids of the labelers who may label this project (admins always may). */
  members?: string[];
  /** Embedding model whose vectors the trainer uses (default: the analyzer's embedder). */
  embedding?: { model: string };
  /** Object detection at ingest (default: on for box-review projects only). Each box becomes a sample. */
  detection?: { enabled?: boolean; scoreThreshold?: number; iouThreshold?: number; /** A registered detector (default: the stack's). */ model?: string };
  /**
   * How long exports and originals are kept (domain/retention.ts); absent (or a field absent): forever.
   * exportsDays: an export is deleted that many days after it finished. originalsDaysAfterExport: an image's original
   * goes, with everything derived, that many days after an export of all labelers' labels that held it finished.
   */
  retention?: { exportsDays?: number; originalsDaysAfterExport?: number };
  createdAt: string;
  createdBy: string;
  /** Incremented on every edit; edits are conditional on it. */
  version: number;
}

export type ImageStatus = 'pending' | 'ready' | 'failed';

export interface ImageRecord {
  projectId: string;
  /** Stable id derived from the object key, so re-imports map to the same image. */
  imageId: string;
  /** Object key of the original in the bucket, e.g. `uploads/flowers/daisy/1.jpg`. */
  key: string;
  /** Entity tag of the object version this record describes (idempotency of ingest). */
  etag: string;
  bytes: number;
  width?: number;
  height?: number;
  contentType?: string;
  /**
   * The object labelers are shown once ready: the derived WebP display copy, or the original itself when ingest
   * found it fit to be shown as it is. Absent: the display copy. See display-image.ts.
   */
  display?: { key: string; contentType: string };
  status: ImageStatus;
  /** Why ingest failed, in words a user can act on. */
  reason?: string;
  /** Upload order: ISO time of the upload event plus the key, sortable. */
  order: string;
  createdAt: string;
  updatedAt: string;
}

/** A box in original-image pixels, [x1, y1, x2, y2] (top-left inclusive, bottom-right exclusive). */
export type Box = [number, number, number, number];

export interface BoxLabel {
  box: Box;
  /** Index into project.classes. */
  classIndex: number;
  /** Where the box came from. */
  source: 'model' | 'labeler';
  score?: number;
}

export interface Suggestion {
  /** Class index into project.classes; -1 for a tagger's tag (never one of the project's classes). */
  classIndex: number;
  /** Human name: the project class (model suggestions) or what the tagger saw (tags, e.g. an ImageNet class). */
  name: string;
  probability: number;
}

/** The unit that is labeled and ranked: a whole image, or a box inside one. */
export interface Sample {
  projectId: string;
  sampleId: string;
  imageId: string;
  kind: 'image' | 'box';
  /** For box samples: the box inside the image. */
  box?: Box;
  /** Increments on every label write; a write names the version it applies to. */
  version: number;
  /** The current label (head of the annotation history), absent when unlabeled. */
  label?: LabelHead;
  /** Distinct labelers whose label is in effect (more than one only with overlap). */
  labeledBy: string[];
  /** Each labeler's top class in effect, with two or more labelers (SampleLabelState.inEffect). */
  inEffect?: Record<string, number>;
  /** Sums of the live points of this sample's label records, for the quality view (domain/quality-tally.ts). */
  liveTally?: Record<string, number>;
  /** Permanent upload-order key (image order plus position of the box). */
  order: string;
  /** Sort key while the sample still needs labels (= order); absent once it has `overlap` labels. */
  queueKey?: string;
  lease?: Lease;
  /**
   * The project model's top classes with their probabilities, best first: attached when a sample is served or shown
   * (from the current ranking), never stored. Absent before there is a model.
   */
  suggestions?: Suggestion[];
  /** What a generic tagger (the embedder's ImageNet head, a detector) saw at ingest: shown apart, never accepted. */
  tags?: Suggestion[];
  /** Model box proposals (box-review projects). */
  proposals?: BoxLabel[];
  createdAt: string;
}

export interface Lease {
  labelerId: string;
  until: number; // epoch ms
  /** Class probabilities the model showed with the sample (for the live error, learning/live-error.ts). */
  probs?: number[];
  /** Drawn uniformly at random for the accuracy audit (learning/audit.ts); never shown to the labeler. */
  audit?: boolean;
  /** Handed back by its labeler (skip): expired, free for others, served to the same labeler after the rest. */
  skipped?: boolean;
}

export interface LabelHead {
  confidences: number[];
  ambiguous: boolean;
  boxes?: BoxLabel[];
  labelerId: string;
  at: string;
  /** 'model' for an auto-label (functions/domain/autolabel.ts): never trained on, left out of exports unless asked. */
  source?: 'labeler' | 'model';
  /** Auto-labels: the model's calibrated probability of the class, and the batch that wrote it (undone together). */
  modelConfidence?: number;
  batchId?: string;
}

export interface SampleLabelState {
  label?: LabelHead;
  labeledBy: string[];
  /**
   * Each labeler's top class in effect (ambiguous labels left out), kept once two or more labelers labeled the
   * sample: what agreement counts (agreement.ts). With one labeler it follows from `label`.
   */
  inEffect?: Record<string, number>;
}

export type AnnotationKind = 'label' | 'undo';

/** Append-only: one record per sample version. */
export interface Annotation {
  projectId: string;
  sampleId: string;
  /** The sample version this annotation applies to; the sample moves to version + 1. */
  version: number;
  kind: AnnotationKind;
  labelerId: string;
  /** Per-class confidence, same order as project.classes. Empty for undo. */
  confidences: number[];
  ambiguous: boolean;
  boxes?: BoxLabel[];
  /** For undo: the version of the annotation being undone... */
  undoes?: number;
  /** ...and the state it restores (that annotation's `before`). */
  restores?: SampleLabelState;
  /** Sample state before this record; undo restores it. */
  before: SampleLabelState;
  /** Live error: how the model's shown probabilities fared against this label (absent without a model). */
  live?: {
    squaredError: number;
    correct: boolean;
    /** The model's top class and its probability at lease time. */
    predicted?: number;
    confidence?: number;
    /** The sample was an audit draw: a uniform random sample of what was still unlabeled (learning/audit.ts). */
    audit?: boolean;
  };
  /** Client-chosen idempotency key: a retried write with the same key is acknowledged, not duplicated. */
  requestId: string;
  at: string;
}

export interface Labeler {
  projectId: string;
  labelerId: string;
  total: number;
  /** Labels per UTC day, `YYYY-MM-DD` -> count. */
  perDay: Record<string, number>;
  /** Most recent label writes, newest last (bounded), for undo. */
  recent: LabelerEntry[];
  lastAt?: string;
}

export interface LabelerEntry {
  sampleId: string;
  /** Version of the label annotation. */
  version: number;
  requestId: string;
}

export const RECENT_LIMIT = 200;

/** An id usable in a URL and an S3 prefix: lower-case letters, digits, '-' and '_'. */
export const ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function isImageKey(key: string): boolean {
  return /\.(jpe?g|png|webp|gif|tiff?|avif|bmp)$/i.test(key);
}

/**
 * The trainer's output: the samples to serve next, best first, with the model's probabilities for each
 * (suggestions and live error). Serving reads it; training replaces it; neither waits for the other.
 */
export interface RankedQueue {
  projectId: string;
  /** Increments with every retrain. */
  generation: number;
  createdAt: string;
  strategy: string;
  /** True when ranked without a model (diverse, representative samples first). */
  coldStart: boolean;
  /** Labels the model was trained on (0 on cold start). */
  labels: number;
  classes: number;
  sampleIds: string[];
  /** Row-major sampleIds.length x classes, absent on cold start. */
  probs?: Float32Array;
  /** Embedding model the ranking used. */
  model?: string;
  /** Labeled samples the model contradicts most (out-of-fold), for review; lowest probability of the label first. */
  suspects?: SuspectLabel[];
  /**
   * The labels of audit draws judged by this retrain's fold models (learning/audit.ts `outOfFoldAuditPoints`), as the
   * accuracy estimate reads them; absent below the calibrated fit's minimum of labels (the quality view then reads
   * the audits as scored at lease time).
   */
  heldOutAudits?: AuditSums;
}

export interface SuspectLabel {
  sampleId: string;
  givenClass: number;
  givenProbability: number;
  predictedClass: number;
  predictedProbability: number;
  /** The predicted class's threshold it passed (mean probability of that class over labels given it). */
  predictedThreshold?: number;
}
