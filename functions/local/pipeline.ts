// The local stand-ins for the cloud's background work: uploads -> ingest queue -> handler (as S3 -> SQS -> the
// ingest Lambda), and labels/new embeddings -> trainer process (as the trainer queue -> its Lambda).

import type { AwsConfig } from '../adapters/aws/clients.js';
import { cachedImages } from '../adapters/image-cache.js';
import { cachedProjects, cachedRankings } from '../adapters/read-cache.js';
import type { IngestDeps } from '../domain/ingest.js';
import type { ImageAnalyzer, Stores } from '../domain/ports.js';
import { embeddingSink } from '../ingest/embedding-sink.js';
import { uploadEvents } from '../ingest/event-keys.js';
import { createIngestHandler } from '../ingest/handler.js';
import { TrainerWorker, type TrainerWorkerOptions } from '../trainer/worker.js';
import type { S3EventSource } from './emulators.js';
import { IngestQueue } from './ingest-queue.js';
import { trainerProcessRunner } from './trainer-process.js';

export interface PipelineOptions {
  analyzer: ImageAnalyzer;
  ingestConcurrency: number;
  trainer?: Pick<TrainerWorkerOptions, 'everyLabels' | 'afterMs'>;
  log: (line: string) => void;
}

export function startPipeline(stores: Stores, awsConfig: AwsConfig, s3: S3EventSource, opts: PipelineOptions) {
  const embedder = opts.analyzer.status().embedder;
  // The API reads the project and its ranking on every request: short-lived caches, refreshed by each retrain.
  const rankings = cachedRankings(stores.rankings, stores.clock);
  const apiStores: Stores = {
    ...stores,
    projects: cachedProjects(stores.projects, stores.clock),
    rankings,
    samples: cachedImages(stores.samples, stores.clock),
  };
  // Retrains run in a child process at background priority, so that labelers are served while the model trains.
  // (This thread only looks up the project per retrain: the API's cached copy will do.)
  const trainer = new TrainerWorker(
    apiStores,
    { embedder, log: opts.log, onRetrained: (projectId) => rankings.refresh(projectId), ...opts.trainer },
    trainerProcessRunner(awsConfig),
  );
  const sink = embeddingSink(stores.blobs, embedder);
  const onAnalyzed: IngestDeps['onAnalyzed'] = sink && (async (project, image, samples, analysis) => {
    await sink(project, image, samples, analysis);
    trainer.ingested(project.id);
  });
  const handler = createIngestHandler({ stores, analyzer: opts.analyzer, onAnalyzed }, { log: opts.log });
  const ingest = new IngestQueue(handler, opts.ingestConcurrency);
  s3.on('event', (event: unknown) => {
    // Runs inside the emulator's event dispatch: nothing thrown here may escape (it would take the server down).
    try {
      // s3rver's events carry the key as it is (unlike the cloud's URL-encoded notifications).
      const records = (event as { Records?: unknown } | null)?.Records;
      const { events, rejected } = uploadEvents(Array.isArray(records) ? records : [], 'raw');
      for (const r of rejected) opts.log(`ingest: upload event record dropped: ${r.reason}`);
      // Derived files land in the same bucket; only originals under uploads/ are ingested (as in the cloud).
      const uploads = events.filter((e) => e.key.startsWith('uploads/'));
      if (uploads.length) ingest.push(uploads);
    } catch (err) {
      opts.log(`ingest: upload event not handled: ${(err as Error)?.message ?? String(err)}`);
    }
  });
  return {
    apiStores,
    trainer,
    ingest,
    async close() {
      await ingest.drain();
      await trainer.close();
    },
  };
}
