// The ingest handler: S3-format event records in, images and samples out. The cloud calls `handleSqs` with
// SQS messages whose bodies are S3 notifications (and reports failed messages back for retry); the local stack
// calls `handleRecords` straight from the emulator's event. Same function, same code path.

import type { S3EventRecord, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ingestObject, type IngestDeps, type IngestOutcome } from '../domain/ingest.js';
import { recentProjects } from './recent-projects.js';

export interface RecordResult {
  key: string;
  outcome?: IngestOutcome;
  error?: string;
}

/** S3 event keys are URL-encoded with '+' for spaces. */
export const decodeS3Key = (key: string) => decodeURIComponent(key.replace(/\+/g, ' '));

/**
 * Images ingested at once per process. Each image spends most of its time waiting on storage round trips and on
 * the shared inference threads, so more images in flight keep both cores busy: measured with `npm run bench:ingest`
 * (300 images, 2 vCPUs), 8 instead of 4 gave 25 % (embed only) and 37 % (embed + detect) more images/s.
 */
export const DEFAULT_INGEST_CONCURRENCY = 8;

export function createIngestHandler(given: IngestDeps, opts: { concurrency?: number; log?: (line: string) => void } = {}) {
  const log = opts.log ?? ((line: string) => console.log(line));
  const deps: IngestDeps = { ...given, stores: { ...given.stores, projects: recentProjects(given.stores.projects, given.stores.clock) } };

  async function handleRecord(record: Pick<S3EventRecord, 's3' | 'eventName' | 'eventTime'>): Promise<RecordResult> {
    const key = decodeS3Key(record.s3.object.key);
    if (!record.eventName.startsWith('ObjectCreated')) return { key, outcome: { status: 'skipped', reason: record.eventName } };
    const outcome = await ingestObject(deps, {
      key,
      size: record.s3.object.size,
      etag: record.s3.object.eTag,
      eventTime: record.eventTime,
    });
    if (outcome.status === 'failed') log(`ingest: ${key} failed: ${outcome.image.reason}`);
    return { key, outcome };
  }

  /** Handles records with bounded concurrency; one record's failure never stops the others. */
  async function handleRecords(records: Pick<S3EventRecord, 's3' | 'eventName' | 'eventTime'>[]): Promise<RecordResult[]> {
    const results: RecordResult[] = new Array(records.length);
    let next = 0;
    const worker = async () => {
      while (next < records.length) {
        const i = next++;
        try {
          results[i] = await handleRecord(records[i]);
        } catch (err) {
          const key = decodeS3Key(records[i].s3.object.key);
          log(`ingest: ${key} error (will be retried): ${(err as Error).message}`);
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
   * a message is reported failed when any of its records failed.
   */
  async function handleSqs(event: SQSEvent): Promise<SQSBatchResponse> {
    const records: S3EventRecord[] = [];
    const messageOf: string[] = [];
    for (const message of event.Records) {
      try {
        const body = JSON.parse(message.body) as { Records?: S3EventRecord[]; Event?: string };
        for (const record of body.Records ?? []) { // s3:TestEvent has no Records
          records.push(record);
          messageOf.push(message.messageId);
        }
      } catch {
        log(`ingest: message ${message.messageId} is not an S3 notification; dropped`);
        continue; // retrying a malformed message can never succeed
      }
    }
    const results = await handleRecords(records);
    const failed = new Set(results.flatMap((r, i) => (r.error ? [messageOf[i]] : [])));
    return { batchItemFailures: event.Records.filter((m) => failed.has(m.messageId)).map((m) => ({ itemIdentifier: m.messageId })) };
  }

  return { handleRecord, handleRecords, handleSqs };
}
