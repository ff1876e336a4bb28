// Composition root of the local stack's ingest thread (see ingest-thread.ts): its own AWS SDK clients to the
// emulators, the ingest handler (functions/ingest/handler.ts) with the embedding sink, and an analyzer that asks the
// main thread's. As on the main thread before, counted writes return before their count is applied (countBehind:
// images finishing within a few hundred milliseconds share one mark and one apply of the project's counter); the
// API's counter cannot wait for this thread's, so the queue's `idle()` asks the thread to settle (ingest-queue.ts).

import { parentPort, workerData } from 'node:worker_threads';
import { createAwsStores, destroyAwsClients } from '../adapters/aws/clients.js';
import { LOCAL_COUNT_BEHIND } from '../adapters/aws/project-counter.js';
import type { DynamoSampleStore } from '../adapters/aws/samples.js';
import { afterAnalysis } from '../adapters/aws/services.js';
import type { ImageAnalysis, ImageAnalyzer } from '../domain/ports.js';
import { createIngestHandler } from '../ingest/handler.js';
import { deserializeError, type FromThread, type IngestThreadData, type ToThread } from './ingest-thread.js';

const port = parentPort!;
const data = workerData as IngestThreadData;
const send = (m: FromThread) => port.postMessage(m);

const stores = createAwsStores(data.config);
const samples = stores.samples as DynamoSampleStore;
samples.countBehind(LOCAL_COUNT_BEHIND);
let nextAnalysis = 0;
const analyses = new Map<number, { resolve: (a: ImageAnalysis) => void; reject: (e: Error) => void }>();
const analyzer: ImageAnalyzer = {
  analyze: (bytes, opts) =>
    new Promise<ImageAnalysis>((resolve, reject) => {
      const id = nextAnalysis++;
      analyses.set(id, { resolve, reject });
      send({ kind: 'analyze', id, bytes, opts });
    }),
  // Nothing on this thread asks (the embedder's name comes with the thread's data).
  status: () => ({ ...(data.embedder ? { embedder: data.embedder } : {}), missing: [] }),
};
const log = (message: string, fields?: Record<string, unknown>) => send({ kind: 'log', message, ...(fields ? { fields } : {}) });
const onAnalyzed = afterAnalysis(stores, data.embedder, (projectId) => send({ kind: 'embedded', projectId }));
const handler = createIngestHandler({ stores, analyzer, onAnalyzed }, { log });
const probes: Record<string, (...args: unknown[]) => unknown> = data.instrument
  ? ((await import(data.instrument)) as { default: (s: typeof stores) => Record<string, (...args: unknown[]) => unknown> }).default(stores)
  : {};

async function run(m: Exclude<ToThread, { kind: 'analyzed' }>): Promise<unknown> {
  switch (m.kind) {
    case 'records':
      return handler.handleRecords(m.records);
    case 'giveUp':
      return handler.giveUp(m.record, m.error);
    case 'probe': {
      const fn = probes[m.name];
      if (!fn) throw new Error(`no probe "${m.name}" on the ingest thread`);
      return fn(...m.args);
    }
    case 'settle':
      return samples.settleCounts();
    case 'close':
      await samples.settleCounts();
      destroyAwsClients(stores.clients);
      return undefined;
  }
}

port.on('message', (m: ToThread) => {
  if (m.kind === 'analyzed') {
    const p = analyses.get(m.id);
    analyses.delete(m.id);
    if (m.error) p?.reject(deserializeError(m.error));
    else p?.resolve(m.analysis!);
    return;
  }
  run(m).then(
    (result) => send({ kind: 'reply', id: m.id, result }),
    (err: unknown) => send({ kind: 'reply', id: m.id, error: (err as Error)?.message ?? String(err) }),
  );
});
