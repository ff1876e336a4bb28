// What an export needs from the world beyond the label stores, as ports: adapters implement them with S3, sharp
// and a streaming ZIP writer (functions/adapters/export), tests with plain in-memory objects.

import type { LabeledImage } from '../model.js';

/** Bytes that arrive in pieces: an entry is never held whole unless its producer already holds it. */
export type Bytes = Uint8Array | string | AsyncIterable<Uint8Array | string>;

/** Where an export's files go: entries of a ZIP archive, or the one file of a single-file export. */
export interface ExportEntries {
  /**
   * Adds one file under `path` (a safe, '/'-separated relative path, unique within the export). `store` asks for
   * no compression (JPEG/PNG/WebP bytes and float matrices do not shrink; deflating them only costs CPU).
   * Resolves once the bytes are written (or handed to a bounded buffer): callers await it for backpressure.
   */
  add(path: string, body: Bytes, opts?: { store?: boolean }): Promise<void>;
}

/** One original image, as it goes into an archive. */
export interface ImageFile {
  /** Upright bytes: the original when it needs no rotation, else re-encoded without an orientation tag. */
  body: Bytes;
  /** Whether the bytes were rotated to match the upright frame the boxes are in. */
  rotated: boolean;
}

/** Reads originals for archives (S3 + sharp in the adapters). */
export interface ImageFiles {
  /** The image as a trainer must see it: pixels upright, so that exported boxes (upright frame) match. */
  open(image: Pick<LabeledImage, 'imageId' | 'key'>): Promise<ImageFile>;
}

/** One stored embedding shard as the export sees it: which samples its rows belong to, vectors read on demand. */
export interface EmbeddingShardRef {
  dims: number;
  /** Row i of the shard is sampleIds[i]. */
  sampleIds: string[];
  /** Rows [from, to) as float32, row-major. */
  read(from: number, to: number): Promise<Float32Array>;
}

/** A project's embeddings for one model, in storage order (later shards win for a sample that appears twice). */
export interface EmbeddingSource {
  /** Live shards only (compacted-away ones are skipped); empty when the project has no embeddings for the model. */
  shards(projectId: string, model: string): AsyncIterable<EmbeddingShardRef>;
}

/** A new object being written in order (S3 multipart upload in the adapter); bounded memory. */
export interface ObjectSink {
  /** Resolves when the chunk is accepted (the adapter applies backpressure here). */
  write(chunk: Uint8Array): Promise<void>;
  /** Completes the object. */
  close(): Promise<void>;
  /** Drops whatever was written (a failed export leaves no half file behind). */
  abort(): Promise<void>;
}

/** ExportEntries that must be finished (a ZIP writes its central directory last). */
export interface ArchiveWriter extends ExportEntries {
  finish(): Promise<void>;
}

/** Export files in the bucket: written by the job, downloaded with a short-lived link. */
export interface ExportObjects {
  /** `large`: the object may be hundreds of GB (images included), worth more memory for bigger upload parts. */
  create(key: string, contentType: string, opts?: { large?: boolean }): ObjectSink;
  /** A presigned GET that makes browsers save the file as `fileName` (Content-Disposition: attachment). */
  presignDownload(key: string, fileName: string, ttlSeconds: number): Promise<string>;
}

/** Where export jobs run: in this process (local stack), or as a message to the trainer function (cloud). */
export interface ExportRunner {
  dispatch(job: { projectId: string; exportId: string }): Promise<void>;
}
