// Composition root of the API Lambda: the same Hono app as `npm start`, with DynamoDB/S3 and everything else
// from the configuration the stack sets (functions/adapters/aws/env.ts), Cognito ID tokens verified by
// aws-jwt-verify (API Gateway's JWT authorizer checks them too), retrains triggered through the trainer queue,
// export and deletion jobs through the export queue (the export function runs both: Lambda freezes this process
// once it has answered, so a deletion left running here would stall).

import { SQSClient } from '@aws-sdk/client-sqs';
import type { LambdaContext, LambdaEvent } from 'hono/aws-lambda';
import { handle } from 'hono/aws-lambda';
import { createAwsStores } from '../adapters/aws/clients.js';
import { apiConfig } from '../adapters/aws/env.js';
import { S3ObjectUrls } from '../adapters/aws/object-urls.js';
import { servingStores } from '../adapters/aws/services.js';
import { sqsTrainerTriggers } from '../adapters/aws/trainer-queue.js';
import { shardFeatureVectors } from '../adapters/embeddings/store.js';
import { sqsExportRunner } from '../adapters/export/runners.js';
import { sqsDeletionRunner } from '../deletion/sqs-runner.js';
import { createLogger } from '../adapters/log.js';
import { awsExportDeps } from '../adapters/export/service.js';
import { cognitoDirectory, signedCognito } from '../adapters/aws/cognito-directory.js';
import { blobAccountStates, withStoredAccounts } from '../auth/account-states.js';
import { withCurrentAccount } from '../auth/current-account.js';
import { createHttpFetcher } from '../auth/http-fetcher.js';
import { createJwtAuthenticate } from '../auth/verify.js';
import { graphOnlyModelLab } from '../vision/graph-lab.js';
import { inMemorySimilar } from '../trainer/similar-in-memory.js';
import { createApp } from './app.js';

const logger = createLogger({ format: 'json' });
const config = apiConfig();
const aws = createAwsStores(config);
const sqs = new SQSClient({ region: config.region });
const triggers = sqsTrainerTriggers(sqs, config.trainerQueueUrl);

// Owners manage the pool's users from the app; every request is checked against the user as they are now (a
// disabled user or a demoted owner is refused at once, not when the token expires). That check reads the account
// state the team routes keep in the bucket, not Cognito (auth/account-states.ts): no Cognito call per request.
const team = withStoredAccounts(
  cognitoDirectory({
    userPoolId: config.userPoolId,
    call: signedCognito(config.region, aws.clients.s3.config.credentials, config.cognitoEndpoint && `${config.cognitoEndpoint.replace(/\/$/, '')}/`),
  }),
  blobAccountStates(aws.blobs),
  { clock: aws.clock },
);

const stores = servingStores(aws);

export const app = createApp({
  stores,
  featureVectors: shardFeatureVectors(stores.blobs, stores.clock),
  authenticate: withCurrentAccount(
    createJwtAuthenticate({
      userPoolId: config.userPoolId,
      clientId: config.userPoolClientId,
      // Tests only: the pool's keys from a stand-in endpoint (tokens must still name the Cognito issuer).
      ...(config.cognitoEndpoint ? { fetcher: redirectedFetcher(config.cognitoEndpoint) } : {}),
    }),
    team,
    { roles: 'narrow' },
  ),
  team,
  presignTtlSeconds: config.presignTtlSeconds,
  auditRate: config.auditRate,
  log: logger,
  // Bring your own model: no ONNX runtime here, so uploads are inspected from the graph; trials and re-embeds answer 503.
  models: graphOnlyModelLab(config.modelLimits),
  // Look-alikes: no trainer process runs beside this one, so the embeddings are read into this container's memory
  // (exact search, as many samples as its memory allows; above, the answer says what to change).
  similar: inMemorySimilar(stores, { embedder: config.embedder, memoryMb: config.memoryMb }),
  // Browsers get presigned S3 URLs (CloudFront serves the app; the bucket stays private).
  objectUrls: new S3ObjectUrls(aws.clients.s3, config.bucket),
  // Noted during the request, sent (one message per project) before the invocation returns: see `handler`.
  onLabeled: (projectId, sampleIds) => triggers.add(projectId, sampleIds),
  // Jobs run in the export function (time, memory, sharp); the API starts them and signs download links.
  deletions: sqsDeletionRunner(sqs, config.exportQueueUrl),
  exports: awsExportDeps(aws, {
    bucket: config.bucket,
    runner: sqsExportRunner(sqs, config.exportQueueUrl),
    defaultEmbeddingModel: config.embedder,
    downloadTtlSeconds: config.presignTtlSeconds,
  }),
});

const serve = handle(app);

function redirectedFetcher(endpoint: string) {
  const inner = createHttpFetcher();
  const cognito = /^https:\/\/cognito-idp\.[a-z0-9-]+\.amazonaws\.com/;
  return { fetch: (uri: string) => inner.fetch(uri.replace(cognito, endpoint.replace(/\/$/, ''))) };
}

export async function handler(event: LambdaEvent, context: LambdaContext) {
  try {
    return await serve(event, context);
  } finally {
    // Lambda freezes the container once this returns: the triggers go out now. A label is already saved when a
    // trigger fails, so the failure is logged and the next label sends another.
    await triggers.flush().catch((err) => logger.error(`trainer trigger failed: ${(err as Error).message}`, { requestId: context.awsRequestId, error: err }));
  }
}
