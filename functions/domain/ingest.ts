// Turning one uploaded object into an image record and its samples. Called by the ingest handler for every
// ObjectCreated record (cloud: from SQS; local: straight from the emulator's event), and by `winnow rescan`.
// Idempotent: the image id is derived from the key and the record remembers the object's etag, so a repeated
// event for the same object version finds the finished record and does nothing.
// Storage calls per image (the cost that matters once inference is fast): one GET of the original (none when the
// event brought its bytes, as the local emulator's do), one conditional
// put of the pending record, the thumbnail (and the display copy, unless the original is shown as it is), and for a
// new image its samples with the ready record in one write that the store batches with other images' (see
// onAnalyzed for the embeddings, also batched), then one read of the project past ingest's cache (an embedder switch).

import { createHash } from 'node:crypto';
import { WinnowError } from './errors.js';
import type { ImageRecord, Project, Sample, Suggestion } from './model.js';
import { derivedDisplay, originalDisplay } from './display-image.js';
import { BUCKET_LAYOUT, parseUploadKey } from './layout.js';
import type { BlobStore, ImageAnalysis, ImageAnalyzer, Stores } from './ports.js';

export interface ObjectEvent {
  key: string;
  /** Object size and etag from the event; the etag recorded is the one of the bytes actually read. */
  size?: number;
  etag?: string;
  eventTime?: string;
  /** The object's bytes as the event source handed them over (they match `size` and `etag`): no read then. */
  body?: Uint8Array;
}

export type IngestOutcome =
  | { status: 'ready'; image: ImageRecord; samples: number }
  | { status: 'failed'; image: ImageRecord }
  | { status: 'skipped'; reason: string };

export interface IngestDeps {
  stores: Stores;
  analyzer: ImageAnalyzer;
  /** Called with the analysis of a ready image (e.g. to append embeddings to the trainer's shards). */
  onAnalyzed?: (project: Project, image: ImageRecord, samples: Sample[], analysis: ImageAnalysis) => Promise<void>;
  /** Largest accepted object in bytes (default 64 MiB). */
  maxBytes?: number;
  /**
   * The project as stored now, past the cache `stores.projects` may have (ingest's keeps a project a few seconds:
   * functions/ingest/recent-projects.ts); read once per ready image that has embeddings. Default: stores.projects.
   */
  currentProject?: (projectId: string) => Promise<Project | undefined>;
}

export const imageIdFor = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 24);

/** Bytes of an upload's name kept in its queue position: the samples' `queueKey` is an index sort key (1,024 bytes at most). */
const ORDER_NAME_BYTES = 700;

/** The name as it sorts in the queue; a longer one is cut (on a character boundary) and made unique by the image id. */
function orderName(name: string, imageId: string): string {
  const bytes = new TextEncoder().encode(name);
  if (bytes.length <= ORDER_NAME_BYTES) return name;
  const head = new TextDecoder().decode(bytes.subarray(0, ORDER_NAME_BYTES - imageId.length - 1)).replace(/\uFFFD$/, '');
  return `${head}~${imageId}`;
}

export async function ingestObject(deps: IngestDeps, event: ObjectEvent): Promise<IngestOutcome> {
  const { stores } = deps;
  const parsed = parseUploadKey(event.key);
  if (!parsed) return { status: 'skipped', reason: `not under uploads/<project>/: ${event.key}` };
  const maxBytes = deps.maxBytes ?? 64 * 1024 * 1024;
  const now = new Date(stores.clock.now()).toISOString();
  const imageId = imageIdFor(event.key);
  const record = (version: { etag: string; bytes: number; lastModified?: Date }): ImageRecord => ({
    projectId: parsed.projectId,
    imageId,
    key: event.key,
    etag: version.etag,
    bytes: version.bytes,
    status: 'pending',
    order: `${event.eventTime ?? version.lastModified?.toISOString() ?? now}|${orderName(parsed.name, imageId)}`,
    createdAt: now,
    updatedAt: now,
  });

  const read = await readObject(stores, event, maxBytes, record);
  if (read.status !== 'read') return read.outcome;
  const { object } = read;
  // The project (a cached read) comes first, so that the analysis runs while the pending record is written; a
  // repeated event (rare) then analyses for nothing, but every image saves a storage round trip of waiting.
  const project = await stores.projects.get(parsed.projectId);
  // Only an object too large to read comes without its bytes.
  const body = object.body && object.bytes <= maxBytes ? object.body : undefined;
  const analyzing = project && body ? settled(deps.analyzer.analyze(body, analyzeOptions(project))) : undefined;
  const { image: stored, created } = await stores.samples.putImageIfAbsent(record(object));
  if (!created && stored.etag === object.etag && stored.status !== 'pending') {
    await analyzing; // its result is not needed, but waiting keeps the number of analyses in flight bounded
    return { status: 'skipped', reason: `already ingested (${stored.status})` };
  }
  // A new version of a known key keeps the image's place in the queue; a pending one resumes.
  const image: ImageRecord = { ...stored, etag: object.etag, bytes: object.bytes, status: 'pending', updatedAt: now };
  delete image.reason;
  delete image.display;

  if (!project) {
    // Not a failure of the file: it waits (pending, with the reason) and is ingested when the project is created.
    const reason = `waiting for project "${parsed.projectId}" to be created`;
    await stores.samples.putImage({ ...image, reason });
    return { status: 'skipped', reason };
  }
  if (!analyzing) return fail(stores, image, `file is ${object.bytes} bytes, above the ${maxBytes}-byte limit`);

  const outcome = await analyzing;
  if (!outcome.ok) {
    const err = outcome.error;
    if (err instanceof WinnowError && err.code === 'bad_request') return fail(stores, image, err.message);
    throw err; // infrastructure trouble: let the queue retry, the image stays pending
  }
  const analysis = outcome.value;
  // The original is shown as it is when the analyzer found it fit and made no display copy.
  const display = analysis.display ? derivedDisplay(image) : originalDisplay(image, analysis.format);
  if (!display) throw new WinnowError('internal', `no display copy of a ${analysis.format} image, which cannot be shown as it is`);
  const samples = samplesFor(project, image, analysis, now);
  const ready: ImageRecord = {
    ...image,
    status: 'ready',
    width: analysis.width,
    height: analysis.height,
    contentType: `image/${analysis.format}`,
    display,
    updatedAt: new Date(stores.clock.now()).toISOString(),
  };
  const derived = () => [
    stores.blobs.put(BUCKET_LAYOUT.derivedKey(project.id, imageId, 'thumb'), analysis.thumbnail, 'image/webp'),
    analysis.display && stores.blobs.put(display.key, analysis.display, display.contentType),
  ];
  if (created && stores.samples.putIngested) {
    // A new image: its samples cannot exist yet, so they go out with the ready record in one (batched) write, after
    // the derived files and the embeddings (written side by side) are stored.
    await Promise.all([...derived(), deps.onAnalyzed?.(project, ready, samples, analysis)]);
    await stores.samples.putIngested(stored, ready, samples);
  } else {
    // A known image (a new version, or a retry): its samples may exist, maybe labeled, so only missing ones are made.
    await Promise.all(derived());
    await stores.samples.putSamplesIfAbsent(samples);
    await deps.onAnalyzed?.(project, ready, samples, analysis);
    await stores.samples.putImage(ready);
  }
  await embedWithCurrentEmbedder(deps, project, ready, samples, analysis, body);
  return { status: 'ready', image: ready, samples: samples.length };
}

/**
 * The project read for the analysis may be a few seconds old, so an image analysed just after its project switched
 * embedders (a re-embed job, functions/vision/reembed.ts) got the old one, whose embeddings that job deletes once it
 * has caught up the images it found ready: the image would be left without any the trainer reads. So, after the image
 * is ready, the project is read as stored now: either the job's catch-up (after its switch) finds the image ready, or
 * this read finds the switch, and then the image is analysed again with the new embedder and its rows go under it.
 * The old rows it wrote (durable by now) are taken out first, so the old model's folder, which the job emptied, holds
 * no rows of it (only ingest's writes: the shards are rewritten, none deleted).
 */
async function embedWithCurrentEmbedder(deps: IngestDeps, used: Project, image: ImageRecord, samples: Sample[], analysis: ImageAnalysis, body: Uint8Array | undefined): Promise<void> {
  if (!deps.onAnalyzed || !analysis.embedding || !body) return;
  const current = await (deps.currentProject ?? ((id: string) => deps.stores.projects.get(id)))(used.id);
  const model = current?.embedding?.model;
  if (!current || model === used.embedding?.model) return;
  // The same detector options, so that the box samples get embeddings of the same boxes.
  const { embedder: _old, ...same } = analyzeOptions(used) ?? {};
  const again = await deps.analyzer.analyze(body, { ...same, ...(model ? { embedder: model } : {}) });
  await deps.stores.embeddings.removeSamples(used.id, samples.map((s) => s.sampleId));
  await deps.onAnalyzed(current, image, samples, again);
}

function analyzeOptions(project: Project): Parameters<ImageAnalyzer['analyze']>[1] {
  const detection = project.detection ?? {};
  return {
    detect: detection.enabled ?? project.taskType === 'box-review',
    ...(detection.scoreThreshold !== undefined ? { scoreThreshold: detection.scoreThreshold } : {}),
    ...(detection.iouThreshold !== undefined ? { iouThreshold: detection.iouThreshold } : {}),
    ...(detection.model ? { detector: detection.model } : {}),
    ...(project.embedding?.model ? { embedder: project.embedding.model } : {}),
  };
}

/** A promise that never rejects (its outcome is looked at later, or not at all). */
const settled = <T>(work: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> =>
  work.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

/** The object's version, with its bytes unless it is too large to read (then only its size is known). */
interface ObjectVersion {
  etag: string;
  bytes: number;
  lastModified?: Date;
  body?: Uint8Array;
}

type ReadResult = { status: 'read'; object: ObjectVersion } | { status: 'done'; outcome: IngestOutcome };

/**
 * One GET gives the bytes and the etag they belong to, so the common case costs a single storage call. A HEAD
 * comes first only when the event does not say the object is small enough to read.
 */
async function readObject(
  stores: Stores,
  event: ObjectEvent,
  maxBytes: number,
  record: (version: ObjectVersion) => ImageRecord,
): Promise<ReadResult> {
  const gone: ReadResult = { status: 'done', outcome: { status: 'skipped', reason: `object ${event.key} no longer exists` } };
  if (event.body && event.etag && event.body.byteLength === event.size && event.size <= maxBytes) {
    return { status: 'read', object: { etag: event.etag, bytes: event.size, body: event.body } };
  }
  if (event.size === undefined || event.size > maxBytes) {
    const head = await stores.blobs.head(event.key);
    if (!head) return gone;
    if (head.bytes > maxBytes) return { status: 'read', object: { etag: head.etag, bytes: head.bytes, lastModified: head.lastModified } };
  }
  let object: Awaited<ReturnType<BlobStore['get']>>;
  try {
    object = await stores.blobs.get(event.key);
  } catch (err) {
    // The queue retries; meanwhile the image shows as pending, as it would had the read come after the record.
    await stores.samples.putImageIfAbsent(record({ etag: event.etag ?? '', bytes: event.size ?? 0 })).catch(() => undefined);
    throw err;
  }
  if (!object) return gone;
  return { status: 'read', object: { etag: object.etag, bytes: object.body.byteLength, body: object.body } };
}

async function fail(stores: Stores, image: ImageRecord, reason: string): Promise<IngestOutcome> {
  const failed: ImageRecord = { ...image, status: 'failed', reason, updatedAt: new Date(stores.clock.now()).toISOString() };
  await stores.samples.putImage(failed);
  return { status: 'failed', image: failed };
}

/** The whole image is always a sample; in box-review projects each detection is one too. */
export function samplesFor(project: Project, image: ImageRecord, analysis: ImageAnalysis, now: string): Sample[] {
  const base = {
    projectId: project.id,
    imageId: image.imageId,
    version: 0,
    labeledBy: [] as string[],
    createdAt: now,
  };
  const whole: Sample = {
    ...base,
    sampleId: image.imageId,
    kind: 'image',
    order: `${image.order}#0000`,
    queueKey: `${image.order}#0000`,
    tags: taggerTags(analysis.tags ?? []),
  };
  if (project.taskType === 'box-review') {
    whole.proposals = (analysis.detections ?? []).map((d) => ({
      box: d.box,
      classIndex: classIndexOf(project, d.name),
      source: 'model' as const,
      score: d.score,
    }));
  }
  const boxes: Sample[] = (project.taskType === 'box-review' ? [] : analysis.detections ?? []).map((d, i) => {
    const order = `${image.order}#${String(i + 1).padStart(4, '0')}`;
    return {
      ...base,
      sampleId: `${image.imageId}-b${i + 1}`,
      kind: 'box',
      box: d.box,
      order,
      queueKey: order,
      tags: taggerTags([{ name: d.name, probability: d.score }]),
    };
  });
  return [whole, ...boxes];
}

function classIndexOf(project: Project, name: string): number {
  const lower = name.toLowerCase();
  return project.classes.findIndex((c) => c.toLowerCase() === lower);
}

/**
 * What the generic tagger (ImageNet head, detector) saw: shown apart from the project model's suggestions, never
 * mapped onto the project's classes by name (an ImageNet "daisy" tag is on half the flowers that are not daisies).
 */
function taggerTags(tags: { name: string; probability: number }[]): Suggestion[] {
  return tags.slice(0, 5).map((t) => ({ classIndex: -1, name: t.name, probability: t.probability }));
}
