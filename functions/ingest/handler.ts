// The ingest handler: S3-format event records in, images and samples out. The cloud calls `handleSqs` with
// SQS messages whose bodies are S3 notifications (and reports failed messages back for retry); the local stack
// calls `handleRecords` straight from the emulator's event. Same function, same code path. Keys arrive as each
// source spells them; the adapter that knows the source turns them into real keys first (./event-keys.ts):
// `handleSqs` reads S3 notifications (URL-encoded keys), the local pipeline reads s3rver's events (raw keys).

import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createLogger } from '../adapters/log.js';
import { originalRemoved, type DeletionRunner } from '../domain/deletion.js';
import { imageIdFor, ingestObject, type IngestDeps, type IngestOutcome } from '../domain/ingest.js';
import { parseUploadKey } from '../domain/layout.js';
import type { Log } from '../domain/ports.js';
import { uploadEvents, type UploadEvent } from './event-keys.js';
import { finishTogether, type FinishTogetherOptions } from './finish-together.js';
import { currentProjects, recentProjects } from './recent-projects.js';

export type { UploadEvent } from './event-keys.js';

export interface RecordResult {
  key: string;
  outcome?: IngestOutcome;
  error?: string;
}

/**
 * Images ingested at once per process. Each image spends most of its time waiting on storage round trips and on
 * the shared inference threads, so more images in flight keep both cores busy; and the writes that images finishing
 * together share (embedding shards, the samples with the ready record, the counter's marks) carry more of them.
 * Measured with `npm run bench:ingest -- --modes embed --limit 600 --concurrency N` (2 vCPUs shared with other work,
 * load average 16-23): 16 gave 22.0 and 24.2 images/s and 4.6 storage requests per image, 8 between them 11.2
 * images/s and 5.6 requests. (Earlier, 4 -> 8 gave 25 % (embed only) and 37 % (embed + detect) more images/s.)
 */
export const DEFAULT_INGEST_CONCURRENCY = 16;

export interface IngestHandlerOptions {
  concurrency?: number;
  log?: Log;
  /**
   * Receives of an SQS message before it goes to the dead-letter queue (the queue's maxReceiveCount; default 3, as
   * infra/constructs/work-queue.ts): on the last one, an image whose ingest errors again ends failed with the error.
   */
  maxReceives?: number;
  /** Analyses that finish close together are handed back together (./finish-together.ts); false: each at once. */
  finishTogether?: FinishTogetherOptions | false;
  /**
   * Where the deletion job of an original removed from the bucket runs: the cloud hands it to the export queue
   * (deletion/sqs-runner.ts), so the ingest function holds no deletes. Default: here, before the record is done.
   */
  deletions?: DeletionRunner;
}

export function createIngestHandler(given: IngestDeps, opts: IngestHandlerOptions = {}) {
  const log: Log = opts.log ?? createLogger({ format: 'text' });
  const deps: IngestDeps = {
    currentProject: currentProjects(given.stores.projects),
    ...given,
    analyzer: opts.finishTogether === false ? given.analyzer : finishTogether(given.analyzer, opts.finishTogether),
    stores: { ...given.stores, projects: recentProjects(given.stores.projects, given.stores.clock) },
  };

  // Events for a key that is being ingested here (S3 sends some twice; a batch may hold both) wait for that ingest
  // and then find it done, instead of analysing and writing the image a second time alongside it.
  const ingesting = new Map<string, Promise<unknown>>();
  async function oneAtATime<T>(key: string, work: () => Promise<T>): Promise<T> {
    while (ingesting.has(key)) await ingesting.get(key)!.catch(() => undefined);
    const running = work();
    ingesting.set(key, running);
    try {
      return await running;
    } finally {
      ingesting.delete(key);
    }
  }

  async function handleRecord(event: UploadEvent): Promise<RecordResult> {
    const { key } = event;
    if (event.eventName.startsWith('ObjectRemoved')) {
      // An original removed from the bucket directly (`aws s3 rm`): its image goes with everything derived.
      const job = await originalRemoved(deps.stores, key, { runner: opts.deletions });
      if (!job) return { key, outcome: { status: 'skipped', reason: `${event.eventName}: no image to delete` } };
      const done = opts.deletions ? 'deletion queued' : 'image deleted';
      log(`ingest: ${JSON.stringify(key)} removed: ${done}, with everything derived (${job.jobId})`);
      return { key, outcome: { status: 'skipped', reason: `removed: ${done} (${job.jobId})` } };
    }
    if (!event.eventName.startsWith('ObjectCreated')) return { key, outcome: { status: 'skipped', reason: event.eventName } };
    const outcome = await oneAtATime(key, () => ingestObject(deps, { key, size: event.size, etag: event.etag, eventTime: event.eventTime, body: event.body }));
    if (outcome.status === 'ready') log(`ingest: ${JSON.stringify(key)} ready (${outcome.samples} sample${outcome.samples === 1 ? '' : 's'})`);
    else if (outcome.status === 'failed') log(`ingest: ${JSON.stringify(key)} failed: ${outcome.image.reason}`);
    else log(`ingest: ${JSON.stringify(key)} skipped: ${outcome.reason}`);
    return { key, outcome };
  }

  /**
   * After the last retry of an ingest that kept hitting errors: the image (if a record of it exists) ends failed
   * with the error as its reason, so that the owner sees it instead of an image pending forever. Never throws.
   */
  async function giveUp(event: UploadEvent, error: string): Promise<void> {
    const parsed = parseUploadKey(event.key);
    log(`ingest: ${JSON.stringify(event.key)} gave up after retries: ${error}`);
    if (!parsed) return;
    try {
      const image = await deps.stores.samples.getImage(parsed.projectId, imageIdFor(event.key));
      if (!image || image.status !== 'pending') return;
      await deps.stores.samples.putImage({
        ...image,
        status: 'failed',
        reason: `ingest failed: ${error}`,
        // No version counts as ingested: a later event for the object, or the next start's reconcile, tries again.
        etag: '',
        updatedAt: new Date(deps.stores.clock.now()).toISOString(),
      });
    } catch (err) {
      log(`ingest: could not mark ${JSON.stringify(event.key)} failed: ${(err as Error).message}`);
    }
  }

  /** Handles records with bounded concurrency; one record's failure never stops the others. */
  async function handleRecords(records: UploadEvent[]): Promise<RecordResult[]> {
    const results: RecordResult[] = new Array(records.length);
    let next = 0;
    const worker = async () => {
      while (next < records.length) {
        const i = next++;
        try {
          results[i] = await handleRecord(records[i]);
        } catch (err) {
          const key = records[i].key;
          log(`ingest: ${JSON.stringify(key)} error (will be retried): ${(err as Error).message}`);
          results[i] = { key, error: (err as Error).message };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? DEFAULT_INGEST_CONCURRENCY, records.length) }, worker));
    return results;
  }

  /**
   * Lambda entry for an SQS event source with ReportBatchItemFailures. The records of every message in the batch
   * are ingested together (S3 sends one record per message, so message by message would be one image at a time);
   * a message is reported failed when any of its records failed. On a message's last receive, its failed images
   * also end failed with the error as their reason (the message still goes to the dead-letter queue, for the alarm).
   */
  async function handleSqs(event: SQSEvent): Promise<SQSBatchResponse> {
    const records: UploadEvent[] = [];
    const messageOf: string[] = [];
    for (const message of event.Records) {
      let body: { Records?: unknown; Event?: string };
      try {
        body = JSON.parse(message.body) as typeof body;
      } catch {
        log(`ingest: message ${message.messageId} is not an S3 notification; dropped`);
        continue; // retrying a malformed message can never succeed
      }
      // s3:TestEvent has no Records. S3 notifications carry URL-encoded keys.
      const { events, rejected } = uploadEvents(Array.isArray(body?.Records) ? body.Records : [], 'url-encoded');
      for (const r of rejected) log(`ingest: message ${message.messageId}: record dropped: ${r.reason}`); // retrying cannot help
      for (const e of events) {
        records.push(e);
        messageOf.push(message.messageId);
      }
    }
    const results = await handleRecords(records);
    const failed = new Set(results.flatMap((r, i) => (r.error ? [messageOf[i]] : [])));
    const lastReceive = new Set(
      event.Records.filter((m) => Number(m.attributes?.ApproximateReceiveCount ?? 0) >= (opts.maxReceives ?? 3)).map((m) => m.messageId),
    );
    await Promise.all(results.map((r, i) => (r.error && lastReceive.has(messageOf[i]) ? giveUp(records[i], r.error) : undefined)));
    return { batchItemFailures: event.Records.filter((m) => failed.has(m.messageId)).map((m) => ({ itemIdentifier: m.messageId })) };
  }

  return { handleRecord, handleRecords, handleSqs, giveUp };
}
