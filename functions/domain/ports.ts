// Ports: what the domain needs from storage. Adapters: `functions/adapters/aws` (DynamoDB + S3, used by the
// cloud and by the local emulators) and `functions/adapters/memory` (fakes for unit tests).
// Every method that changes state is a single conditional write; nothing needs transactions.

import type { Annotation, BoxLabel, ImageRecord, Labeler, LabelerEntry, LabelHead, Lease, Project, RankedQueue, Sample } from './model.js';

export interface Page<T> {
  items: T[];
  /** Opaque cursor for the next page, absent on the last one. */
  cursor?: string;
}

export interface ProjectStore {
  /** Creates the project; throws ConditionFailed if the id is taken. */
  create(project: Project): Promise<void>;
  get(projectId: string): Promise<Project | undefined>;
  list(): Promise<Project[]>;
  /** Replaces the project if its stored version is `expectedVersion`; stores version + 1. */
  update(project: Project, expectedVersion: number): Promise<Project>;
  /** Removes the project record (deletion, see deletion.ts); nothing if it is gone already. */
  delete(projectId: string): Promise<void>;
}

/**
 * A project's counts, kept by the sample store as it writes (one read, whatever the project's size): exact, and
 * `repairNeeded` when a writer died between a write and its count (then `recount` rebuilds them from every record).
 */
export interface SampleCounts {
  samples: number;
  /** Samples by how many labelers' labels are in effect (index = labeledBy.length). */
  byDepth: number[];
  ambiguous: number;
  /** Labeled samples by the top class of their label (index = class). */
  byClass: number[];
  images: { pending: number; ready: number; failed: number };
  /** Samples with two or more labelers' classes in effect: how many, how many unanimous, and per pair of labelers. */
  agreement: {
    samples: number;
    unanimous: number;
    pairs: { a: string; b: string; shared: number; same: number }[];
    /** Per class (index = class): those samples where some labeler chose it, and where every labeler did. */
    byClass?: { samples: number; unanimous: number }[];
  };
  /** The quality view's sums over every label record with a live point (domain/quality-tally.ts); absent = none. */
  quality?: Record<string, number>;
  /** False: counts kept since before the quality sums were (the quality view then reads every label). */
  qualityKept?: boolean;
  repairNeeded?: boolean;
}

export interface SampleStore {
  /** Creates the image record unless one exists for the same id; returns the stored record and whether it is new. */
  putImageIfAbsent(image: ImageRecord): Promise<{ image: ImageRecord; created: boolean }>;
  /** Overwrites an image record (status changes during ingest). */
  putImage(image: ImageRecord): Promise<void>;
  getImage(projectId: string, imageId: string): Promise<ImageRecord | undefined>;
  /** Several image records at once (missing ones are left out); order follows `imageIds`. */
  getImages(projectId: string, imageIds: string[]): Promise<ImageRecord[]>;
  /**
   * Images in id order. With `status`, only those: a page then holds up to `limit` matches and stops early (with a
   * cursor) once it has looked at a bounded number of records, so a rare status costs many small pages, never one huge one.
   */
  listImages(projectId: string, opts?: { cursor?: string; limit?: number; status?: ImageRecord['status'] }): Promise<Page<ImageRecord>>;

  /** Creates samples that do not exist yet; existing ones (maybe labeled) are left untouched. */
  putSamplesIfAbsent(samples: Sample[]): Promise<number>;
  /**
   * Ingest's last write for an image whose record it created (`putImageIfAbsent` said `created`): the record as it
   * now is (`ready`, replacing `previous`) together with the image's samples, which cannot exist yet (their ids
   * derive from the new image's), so no condition is checked on them. A store may write the calls that arrive
   * together in few requests; a store without it gets `putSamplesIfAbsent` then `putImage`.
   */
  putIngested?(previous: ImageRecord, ready: ImageRecord, samples: Sample[]): Promise<void>;
  getSample(projectId: string, sampleId: string): Promise<Sample | undefined>;
  /** Several samples at once (missing ones are left out); order follows `sampleIds`. */
  getSamples(projectId: string, sampleIds: string[]): Promise<Sample[]>;
  listSamples(projectId: string, opts?: { cursor?: string; limit?: number }): Promise<Page<Sample>>;
  /** Samples that still need labels, in queue order (`queueKey` ascending). May lag a just-made write. */
  queue(projectId: string, opts?: { after?: string; limit?: number }): Promise<Sample[]>;

  /**
   * Leases the sample to `lease.labelerId` unless another labeler holds an unexpired lease or it no longer needs
   * labels. Returns the leased sample, or undefined if someone else has it.
   */
  lease(projectId: string, sampleId: string, lease: Lease, now: number): Promise<Sample | undefined>;

  /**
   * Moves the sample from `expectedVersion` to `expectedVersion + 1` with the given head (undefined = unlabeled),
   * labelers and queue key (undefined = done, removed from the queue). Throws ConditionFailed if the stored version differs.
   */
  advance(
    projectId: string,
    sampleId: string,
    expectedVersion: number,
    next: HeadAdvance,
  ): Promise<Sample>;
  /**
   * An `advance` of a sample of this project is about to follow (a label is being claimed): a store whose advance
   * first waits for something of its own (the project count's mark, adapters/aws/project-counter.ts) may send it now,
   * alongside the claim, instead of after it. Nothing is written to any sample.
   */
  prepareAdvance?(projectId: string): void;

  /**
   * Replaces the box proposals a labeler reviews (e.g. imported from another detector). The label, version, queue
   * place and lease stay as they are: proposals are not a label. Returns the updated sample, or undefined if the
   * sample does not exist (nothing is created).
   */
  setProposals(projectId: string, sampleId: string, proposals: BoxLabel[]): Promise<Sample | undefined>;

  /**
   * The samples of one image (deletion): every sample id starts with its image's id (ingest and feature imports name
   * them so), so this reads only those.
   */
  listSamplesOfImage(projectId: string, imageId: string): Promise<Sample[]>;
  /** Removes the image record (deletion); nothing if it is gone already. */
  deleteImage(projectId: string, imageId: string): Promise<void>;
  /** Removes the sample with its lease and queue place (deletion); nothing if it is gone already. */
  deleteSample(projectId: string, sampleId: string): Promise<void>;
  /** Removes many image records and samples in few requests (a project's deletion); missing ones are fine. */
  deleteMany(projectId: string, items: { imageIds?: string[]; sampleIds?: string[] }): Promise<void>;

  /** The project's counts as kept by this store's writes (see SampleCounts). */
  counts(projectId: string): Promise<SampleCounts>;
  /** Rebuilds the counts from every image and sample record (a full read; the repair after a writer died). */
  recount(projectId: string): Promise<SampleCounts>;
}

/** The trainer's latest ranking per project (one record per project, replaced by each retrain). */
export interface RankingStore {
  get(projectId: string): Promise<RankedQueue | undefined>;
  put(queue: RankedQueue): Promise<void>;
  /** Removes the project's ranking (deletion); nothing if there is none. */
  delete(projectId: string): Promise<void>;
}

export interface AnnotationStore {
  /** Appends the record keyed by (project, sample, version); returns the stored one if that version is taken. */
  append(annotation: Annotation): Promise<{ created: boolean; stored: Annotation }>;
  get(projectId: string, sampleId: string, version: number): Promise<Annotation | undefined>;
  /** The sample's history, oldest first. */
  listForSample(projectId: string, sampleId: string): Promise<Annotation[]>;
  /**
   * The project's newest label records with a served (non-audit) live point, newest first: by time (`at`), then
   * (sample, version) descending. Up to `limit`, read key-paged from an index of those records only; only the fields
   * the quality chart reads.
   */
  newestServed(projectId: string, limit: number): Promise<Pick<Annotation, 'projectId' | 'sampleId' | 'version' | 'at' | 'live'>[]>;
  /** All annotations of the project (export), in (sample, version) order. */
  listForProject(projectId: string, opts?: { cursor?: string; limit?: number }): Promise<Page<Annotation>>;
  /** Removes one record (deletion of an image, a project or a labeler's work); nothing if it is gone already. */
  delete(projectId: string, sampleId: string, version: number): Promise<void>;
  /** Removes many records in few requests (a project's deletion); missing ones are fine. */
  deleteMany(projectId: string, records: { sampleId: string; version: number }[]): Promise<void>;
}

export interface LabelerStore {
  get(projectId: string, labelerId: string): Promise<Labeler | undefined>;
  list(projectId: string): Promise<Labeler[]>;
  /** Records a label write unless `entry.requestId` is already recorded (idempotent). */
  recordLabel(projectId: string, labelerId: string, entry: LabelerEntry, at: string): Promise<Labeler>;
  /** Removes the entry with this requestId from `recent` and decrements the counts (idempotent). */
  recordUndo(projectId: string, labelerId: string, entry: LabelerEntry, at: string): Promise<Labeler>;
  /** Removes the labeler's tally in the project (deletion); nothing if there is none. */
  delete(projectId: string, labelerId: string): Promise<void>;
}

export interface StoredObject {
  key: string;
  bytes: number;
  etag: string;
  contentType?: string;
  lastModified?: Date;
}

/** The object store (S3 bucket). Keys are full keys, e.g. `uploads/<project>/<name>`. */
export interface BlobStore {
  put(key: string, body: Uint8Array, contentType: string): Promise<{ etag: string }>;
  get(key: string): Promise<{ body: Uint8Array; contentType?: string; etag: string } | undefined>;
  head(key: string): Promise<StoredObject | undefined>;
  delete(key: string): Promise<void>;
  /** Removes many objects in few requests (S3 DeleteObjects, up to 1000 each); missing ones are fine. */
  deleteMany(keys: string[]): Promise<void>;
  list(prefix: string, opts?: { cursor?: string; limit?: number }): Promise<Page<StoredObject>>;
  /**
   * Short-lived URL to read the object (never public). With `contentType`, the response carries that Content-Type
   * whatever the object was stored with (S3's response-content-type).
   */
  presignGet(key: string, ttlSeconds: number, opts?: { contentType?: string }): Promise<string>;
  /** Short-lived URL to upload one object with the given content type. */
  presignPut(key: string, contentType: string, ttlSeconds: number): Promise<string>;
}

/**
 * URLs a browser can use for one object, short-lived: presigned S3 URLs in the cloud (the BlobStore's own presigner),
 * Winnow-signed URLs on the API's origin on the local stack (the emulator is never exposed). Chosen by the
 * composition root; without one, the API falls back to the BlobStore's presigner.
 */
export interface ObjectUrls {
  /** `contentType`: what the browser receives, whatever the object's own; `downloadName`: save as an attachment. */
  getUrl(key: string, ttlSeconds: number, opts?: { contentType?: string; downloadName?: string }): Promise<string>;
  /** The uploader must send the same Content-Type. */
  putUrl(key: string, contentType: string, ttlSeconds: number): Promise<string>;
}

/** A project's embeddings of one model as one matrix: the trainer's input. */
export interface EmbeddingMatrix {
  model: string;
  dims: number;
  rows: number;
  /** Row i is the embedding of sampleIds[i]. */
  sampleIds: string[];
  /** rows x dims fp16 bits, row-major (half the memory of float32). */
  fp16: Uint16Array;
  /** The whole matrix as float32 (a new array each call). */
  toFloat32(): Float32Array;
  /** One row as float32. */
  row(i: number): Float32Array;
}

/** One project's embeddings of one model; keep it between retrains: a later load() reads only what is new. */
export interface EmbeddingSource {
  readonly model: string;
  load(): Promise<EmbeddingMatrix>;
}

/** Where the embeddings are kept (functions/adapters/embeddings: fp16 shard objects in the bucket). */
export interface EmbeddingStore {
  source(projectId: string, model: string): EmbeddingSource;
  /** Merges many small writes into few large ones, so loads stay cheap. */
  compact(projectId: string, model: string): Promise<unknown>;
  /** Removes these samples' embeddings, of every model (deleted images); returns how many rows went. */
  removeSamples(projectId: string, sampleIds: Iterable<string>): Promise<number>;
}

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Facts that go with a log message (ids, counts, an error). */
export type LogFields = Record<string, unknown>;

/**
 * Where a component reports what it did: one message, optional fields. Composition roots pass the one logger
 * (functions/adapters/log.ts); tests may pass any function.
 */
export type Log = (message: string, fields?: LogFields) => void;

/** Everything the use cases need, built once per entry point (composition root). */
/** What a label or undo sets on a sample head (SampleStore.advance; the head that results: `advancedHead`). */
export interface HeadAdvance {
  label?: LabelHead;
  labeledBy: string[];
  inEffect?: Record<string, number>;
  queueKey?: string;
  /** The sample's quality sums (Sample.liveTally) from now on: absent = as they are, empty = none. */
  liveTally?: Record<string, number>;
}

export interface Stores {
  projects: ProjectStore;
  samples: SampleStore;
  annotations: AnnotationStore;
  labelers: LabelerStore;
  rankings: RankingStore;
  blobs: BlobStore;
  /** The embeddings kept for the trainer (in the bucket, beside the other blobs). */
  embeddings: EmbeddingStore;
  clock: Clock;
  /**
   * Only where the process outlives its answers (the local stack's API; never a Lambda, which may freeze after
   * answering): a label is answered once its annotation record is claimed, and the rest of its write (the sample
   * head, the labeler's progress) completes just after the answer (label-completions.ts).
   */
  labelCompletions?: LabelCompletions;
}

/** A label whose annotation record is claimed and whose head and labeler progress may still be completing. */
export interface PendingLabel {
  projectId: string;
  sampleId: string;
  /** The version its annotation record claimed. */
  version: number;
  labelerId: string;
  requestId: string;
}

/** A label noted in the journal before its claim was sent (LabelCompletions.begin). */
export interface LabelTicket {
  token: number;
  label: PendingLabel;
}

/** See Stores.labelCompletions and label-completions.ts. */
export interface LabelCompletions {
  /** Notes a label about to be claimed, durably, before the claim is sent: a restart completes it if it was claimed. */
  begin(label: PendingLabel): LabelTicket;
  /** Runs `complete` (retried until it succeeds) after the caller's answer; the ticket closes when it has. */
  complete(ticket: LabelTicket, complete: () => Promise<void>): Promise<void>;
  /** Nothing to complete (the claim was refused, or the caller completed it itself). */
  abandon(ticket: LabelTicket): void;
  /** Resolves once every completion begun so far for the project (only those of `sampleId`, if given) has ended. */
  settled(projectId: string, sampleId?: string): Promise<void>;
}

/**
 * Where a deferred label is noted before its answer goes out, so that a restart after a crash completes it: a
 * journal on the local disk (functions/local/label-journal.ts). As durable as the local store's own writes.
 */
export interface LabelJournal {
  /** Notes the label (synchronously, before returning); the token closes the entry. */
  open(label: PendingLabel): number;
  close(token: number): void;
  /** Labels noted and never closed (by a process that died), oldest first. */
  unfinished(): PendingLabel[];
  /** Forgets every entry (after the unfinished ones were completed). */
  clear(): void;
}

/** What the ingest pipeline learns about one image (sharp + ONNX adapters implement the analyzer). */
export interface ImageAnalysis {
  width: number;
  height: number;
  /** Detected format, e.g. 'jpeg', 'png'. */
  format: string;
  /** WebP thumbnail (longest side ~256 px). */
  thumbnail: Uint8Array;
  /**
   * WebP display-size copy (longest side ~1600 px); absent when the original itself is fit to be shown (a still,
   * upright, small JPEG, PNG or WebP: see `format`), which is then served as it is with that content type.
   */
  display?: Uint8Array;
  /** Whole-image embedding, L2-normalised; absent when no embedder model is available. */
  embedding?: Float32Array;
  /** The embedder model that made `embedding` (and the crop embeddings); absent: the analyzer's default. */
  embeddingModel?: string;
  /** Model tags for the whole image (e.g. ImageNet top-5), best first. */
  tags?: { name: string; probability: number }[];
  /** Detector proposals, in original-image pixels, each with its own crop embedding when available. */
  detections?: { box: [number, number, number, number]; name: string; classIndex: number; score: number; embedding?: Float32Array }[];
}

export interface ImageAnalyzer {
  /** Throws WinnowError('bad_request', reason) when the bytes are not a usable image. */
  analyze(
    bytes: Uint8Array,
    opts?: {
      detect?: boolean;
      scoreThreshold?: number;
      iouThreshold?: number;
      /** A registered model to use instead of the default (the project's `embedding.model`, `detection.model`). */
      embedder?: string;
      detector?: string;
    },
  ): Promise<ImageAnalysis>;
  /** Which models are loaded, and which are missing (with where to get them). */
  status(): { embedder?: string; tagger?: string; detector?: string; missing: string[] };
}
