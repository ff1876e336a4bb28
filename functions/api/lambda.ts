// Composition root of the API Lambda: the same Hono app as `npm start`, with DynamoDB/S3 from the environment,
// Cognito ID tokens verified by aws-jwt-verify (API Gateway's JWT authorizer checks them too), and retrains
// triggered through the trainer queue.

import { SQSClient } from '@aws-sdk/client-sqs';
import { handle } from 'hono/aws-lambda';
import { createAwsStores } from '../adapters/aws/clients.js';
import { parseCloudEnv } from '../adapters/aws/env.js';
import { sqsTrainerTrigger } from '../adapters/aws/trainer-queue.js';
import { sqsExportRunner } from '../adapters/export/runners.js';
import { awsExportDeps } from '../adapters/export/service.js';
import { cachedProjects, cachedRankings } from '../adapters/read-cache.js';
import { createJwtAuthenticate } from '../auth/verify.js';
import { createApp } from './app.js';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`missing environment: ${name}`);
  return value;
}

const config = parseCloudEnv(process.env);
const aws = createAwsStores(config);
// Every labeling request reads the project and its ranking: cache them briefly per warm container.
const stores = { ...aws, projects: cachedProjects(aws.projects, aws.clock), rankings: cachedRankings(aws.rankings, aws.clock) };
const sqs = new SQSClient({ region: config.region });
const trigger = sqsTrainerTrigger(sqs, required('WINNOW_TRAINER_QUEUE_URL'));
const presignTtlSeconds = Number(process.env.WINNOW_PRESIGN_TTL_SECONDS ?? 900);

export const app = createApp({
  stores,
  authenticate: createJwtAuthenticate({
    userPoolId: required('WINNOW_USER_POOL_ID'),
    clientId: required('WINNOW_USER_POOL_CLIENT_ID'),
  }),
  presignTtlSeconds,
  onLabeled: (projectId, sampleIds) => trigger({ projectId, sampleIds }),
  // Jobs run in the trainer function (time, memory, sharp); the API starts them and signs download links.
  exports: awsExportDeps(aws, {
    bucket: config.bucket,
    runner: sqsExportRunner(sqs, required('WINNOW_TRAINER_QUEUE_URL')),
    defaultEmbeddingModel: process.env.WINNOW_EMBEDDER ?? 'mobilenetv2-features',
    downloadTtlSeconds: presignTtlSeconds,
  }),
});

export const handler = handle(app);
