// The environment a Lambda entry point reads, pointed at the local emulators: the tables and bucket the tests create,
// the emulators' endpoints and the S3 emulator's documented keys. Extra variables (queues, models) come per test.

import { DEFAULT_TABLE_NAMES, ENV } from '../../functions/adapters/aws/schema.js';

export function lambdaEnvOnEmulators(opts: { bucket: string; s3Endpoint: string; dynamoEndpoint: string }, extra: Record<string, string> = {}): void {
  Object.assign(process.env, {
    [ENV.projectsTable]: DEFAULT_TABLE_NAMES.projects,
    [ENV.samplesTable]: DEFAULT_TABLE_NAMES.samples,
    [ENV.annotationsTable]: DEFAULT_TABLE_NAMES.annotations,
    [ENV.labelersTable]: DEFAULT_TABLE_NAMES.labelers,
    [ENV.bucket]: opts.bucket,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    WINNOW_S3_ENDPOINT: opts.s3Endpoint,
    WINNOW_DYNAMODB_ENDPOINT: opts.dynamoEndpoint,
    ...extra,
  });
}
