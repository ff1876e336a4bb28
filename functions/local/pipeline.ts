// The local stand-ins for the cloud's background work: uploads -> ingest queue -> handler (as S3 -> SQS -> the
// ingest Lambda), and labels/new embeddings -> trainer process (as the trainer queue -> its Lambda).

import type { AwsConfig } from '../adapters/aws/clients.js';
import { afterAnalysis, servingStores } from '../adapters/aws/services.js';
import { resumeDeletions } from '../domain/deletion.js';
import type { ImageAnalyzer, LabelCompletions, Log, Stores } from '../domain/ports.js';
import { uploadEvents } from '../ingest/event-keys.js';
import { createIngestHandler } from '../ingest/handler.js';
import { TrainerWorker, type TrainerWorkerOptions } from '../trainer/worker.js';
import type { VisionAnalyzer } from '../vision/analyzer.js';
import { registryAnalyzer, type ModelRegistry } from '../vision/registry.js';
import type { S3EventSource } from './emulators.js';
import { IngestQueue, type IngestHandler } from './ingest-queue.js';
import { startIngestThread, type IngestThread } from './ingest-thread.js';
import { trainerProcessRunner, type TrainerPriority } from './trainer-process.js';

/**
 * Uploads up to this size come with their bytes in the emulator's event (s3rver-process.ts `inlineBodyMax`), so
 * ingest reads them back through neither the SDK nor the emulator: one storage request less per image.
 */
export const INLINE_UPLOAD_MAX = 16 * 1024 * 1024;

export interface PipelineOptions {
  analyzer: ImageAnalyzer;
  ingestConcurrency: number;
  trainer?: Pick<TrainerWorkerOptions, 'everyLabels' | 'afterMs' | 'auditRate'>;
  /** Default 'background' (trainer-process.ts). */
  trainerPriority?: TrainerPriority;
  log: Log;
  /** Registered models (bucket + local file cache): projects naming one are analysed with it. */
  registry?: ModelRegistry;
  /**
   * Where the ingest handler runs: by default on a thread of its own with its own storage clients
   * (./ingest-thread.ts); false: on this thread, with `stores` (as before; the bench compares the two).
   */
  ingestThread?: false | { instrument?: string };
  /** Labels answered before their head is written (domain/label-completions.ts): the API's stores carry it. */
  labelCompletions?: LabelCompletions;
}

export function startPipeline(stores: Stores, awsConfig: AwsConfig, s3: S3EventSource, opts: PipelineOptions) {
  const embedder = opts.analyzer.status().embedder;
  // The API reads the project and its ranking on every request: short-lived caches, refreshed by each retrain
  // (the same caches as the API Lambda's: functions/adapters/aws/services.ts).
  const apiStores = { ...servingStores(stores), ...(opts.labelCompletions ? { labelCompletions: opts.labelCompletions } : {}) };
  const rankings = apiStores.rankings;
  // Retrains run in a child process at background priority, so that labelers are served while the model trains.
  // (This thread only looks up the project per retrain: the API's cached copy will do.)
  const trainer = new TrainerWorker(
    apiStores,
    { embedder, log: opts.log, onRetrained: (projectId) => rankings.refresh(projectId), ...opts.trainer },
    trainerProcessRunner(awsConfig, opts.trainerPriority),
  );
  const analyzer = opts.registry && 'analyzeWith' in opts.analyzer ? registryAnalyzer(opts.analyzer as VisionAnalyzer, opts.registry) : opts.analyzer;
  const onEmbedded = (projectId: string) => trainer.ingested(projectId);
  const thread: IngestThread | undefined =
    opts.ingestThread === false ? undefined : startIngestThread(awsConfig, { analyzer, embedder, log: opts.log, onEmbedded, ...opts.ingestThread });
  const handler: IngestHandler =
    thread ?? createIngestHandler({ stores, analyzer, onAnalyzed: afterAnalysis(stores, embedder, onEmbedded) }, { log: opts.log });
  const ingest = new IngestQueue(handler, opts.ingestConcurrency, { thread });
  s3.on('event', (event: unknown, body?: Uint8Array) => {
    // Runs inside the emulator's event dispatch: nothing thrown here may escape (it would take the server down).
    try {
      // s3rver's events carry the key as it is (unlike the cloud's URL-encoded notifications).
      const records = (event as { Records?: unknown } | null)?.Records;
      const { events, rejected } = uploadEvents(Array.isArray(records) ? records : [], 'raw');
      for (const r of rejected) opts.log(`ingest: upload event record dropped: ${r.reason}`);
      // Derived files land in the same bucket; only originals under uploads/ are ingested (as in the cloud).
      const uploads = events.filter((e) => e.key.startsWith('uploads/'));
      // The emulator hands over a new upload's bytes (checked against its etag): ingest does not GET them again.
      if (body && uploads.length === 1 && events.length === 1) uploads[0].body = body;
      if (uploads.length) ingest.push(uploads);
    } catch (err) {
      opts.log(`ingest: upload event not handled: ${(err as Error)?.message ?? String(err)}`);
    }
  });
  // Deletion jobs that a stop or crash interrupted run to their end now (functions/domain/deletion.ts).
  const resuming = resumeDeletions(apiStores, { settleMs: 2000 }).then(
    (jobs) => jobs.forEach((j) => opts.log('deletion finished after a restart', { jobId: j.jobId, projectId: j.projectId })),
    (err: unknown) => opts.log('deletion: unfinished jobs not resumed', { error: (err as Error)?.message ?? String(err) }),
  );
  return {
    apiStores,
    trainer,
    ingest,
    async close() {
      await resuming;
      await ingest.drain();
      await thread?.close();
      await trainer.close();
    },
  };
}
