// Composition root of the ingest container Lambda: SQS (S3 notifications) -> the shared ingest handler.
// Configuration from functions/adapters/aws/env.ts; the default models are baked into the image under /opt/models,
// models registered by users are downloaded from the bucket to /tmp on first use (cached by sha256).

import os from 'node:os';
import path from 'node:path';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createAwsStores } from '../adapters/aws/clients.js';
import { ingestConfig } from '../adapters/aws/env.js';
import { afterAnalysis } from '../adapters/aws/services.js';
import { sqsTrainerTriggers, type TrainerTriggers } from '../adapters/aws/trainer-queue.js';
import { createLogger } from '../adapters/log.js';
import { sqsDeletionRunner } from '../deletion/sqs-runner.js';
import { createImageAnalyzer } from '../vision/analyzer.js';
import { ModelRegistry, registryAnalyzer } from '../vision/registry.js';
import { createIngestHandler } from './handler.js';

const logger = createLogger({ format: 'json' });
let ready: Promise<{ ingest: ReturnType<typeof createIngestHandler>; triggers: TrainerTriggers }> | undefined;

/** Built once per container (cold start), reused by every invocation: ONNX sessions are expensive. */
async function init() {
  const config = ingestConfig();
  const stores = createAwsStores(config);
  const base = await createImageAnalyzer({ modelDir: config.modelDir, manifestDir: config.manifestDir, embedder: config.embedder });
  // Projects' registered models (functions/vision/registry.ts): fetched from the bucket into /tmp, by sha256.
  const analyzer = registryAnalyzer(base, new ModelRegistry(stores.blobs, path.join(os.tmpdir(), 'winnow-models')));
  for (const line of analyzer.status().missing) logger.warn(`model missing: ${line}`);
  const sqs = new SQSClient({ region: config.region });
  const triggers = sqsTrainerTriggers(sqs, config.trainerQueueUrl);
  // An original removed from the bucket: its deletion job goes on the export queue, which the export function runs
  // in slices (deletion/worker.ts); this function only writes the job record and sends the message.
  const deletions = sqsDeletionRunner(sqs, config.exportQueueUrl);
  // New embeddings change the ranking: one trigger per project per invocation, sent before it returns.
  const onAnalyzed = afterAnalysis(stores, analyzer.status().embedder, (projectId) => triggers.add(projectId));
  return { ingest: createIngestHandler({ stores, analyzer, onAnalyzed }, { concurrency: config.ingestConcurrency, log: logger, deletions }), triggers };
}

export async function handler(event: SQSEvent, context?: Pick<Context, 'awsRequestId'>): Promise<SQSBatchResponse> {
  ready ??= init();
  const { ingest, triggers } = await ready;
  const log = context ? logger.with({ requestId: context.awsRequestId }) : logger;
  try {
    return await ingest.handleSqs(event);
  } finally {
    // The images are ingested either way; a lost trigger only delays the ranking until the next upload or label.
    await triggers.flush().catch((err) => log.error(`trainer trigger failed: ${(err as Error).message}`, { error: err }));
  }
}
