// Composition root of the ingest container Lambda: SQS (S3 notifications) -> the shared ingest handler.
// Models are baked into the image under /opt/models (WINNOW_MODELS overrides).

import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createAwsStores } from '../adapters/aws/clients.js';
import { sqsTrainerTrigger } from '../adapters/aws/trainer-queue.js';
import type { IngestDeps } from '../domain/ingest.js';
import { parseCloudEnv } from '../adapters/aws/env.js';
import { createImageAnalyzer } from '../vision/analyzer.js';
import { embeddingSink } from './embedding-sink.js';
import { createIngestHandler, DEFAULT_INGEST_CONCURRENCY } from './handler.js';

let ready: Promise<ReturnType<typeof createIngestHandler>> | undefined;

/** Built once per container (cold start), reused by every invocation: ONNX sessions are expensive. */
async function init() {
  const config = parseCloudEnv(process.env);
  const stores = createAwsStores(config);
  const analyzer = await createImageAnalyzer({ modelDir: process.env.WINNOW_MODELS ?? '/opt/models' });
  for (const line of analyzer.status().missing) console.warn(`model missing: ${line}`);
  const sink = embeddingSink(stores.blobs, analyzer.status().embedder);
  const queueUrl = process.env.WINNOW_TRAINER_QUEUE_URL;
  const trigger = queueUrl ? sqsTrainerTrigger(new SQSClient({ region: config.region }), queueUrl) : undefined;
  const onAnalyzed: IngestDeps['onAnalyzed'] = sink && (async (project, image, samples, analysis) => {
    await sink(project, image, samples, analysis);
    trigger?.({ projectId: project.id }); // new embeddings: refresh the ranking
  });
  return createIngestHandler({ stores, analyzer, onAnalyzed }, { concurrency: Number(process.env.WINNOW_INGEST_CONCURRENCY ?? DEFAULT_INGEST_CONCURRENCY) });
}

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  ready ??= init();
  return (await ready).handleSqs(event);
}
