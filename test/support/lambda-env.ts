// What the Lambda entry-point tests share: the emulators a deployed function would talk to (dynalite for DynamoDB,
// s3rver for S3) with the tables and bucket created, stores on them for the test's own reads and writes, and the
// environment a Lambda entry point reads pointed at them.

import { createAwsStores, destroyAwsClients, ensureBucket, ensureTables, type AwsStores } from '../../functions/adapters/aws/clients.js';
import { DEFAULT_TABLE_NAMES, ENV } from '../../functions/adapters/aws/schema.js';
import { startDynalite, startS3rver } from '../../functions/local/emulators.js';
import { tempDir } from './stack.js';

export interface LambdaEmulators {
  stores: AwsStores;
  s3Endpoint: string;
  dynamoEndpoint: string;
  /** Stops the stores' clients, then both emulators. */
  close: () => Promise<void>;
}

export async function startLambdaEmulators(name: string, bucket: string): Promise<LambdaEmulators> {
  const dynamo = await startDynalite();
  const s3 = await startS3rver({ dir: await tempDir(`${name}-s3`), bucket });
  const stores = createAwsStores({
    region: 'us-east-1',
    endpoints: { dynamodb: dynamo.endpoint, s3: s3.endpoint },
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    tables: DEFAULT_TABLE_NAMES,
    bucket,
  });
  await ensureTables(stores, DEFAULT_TABLE_NAMES);
  await ensureBucket(stores, bucket);
  const close = async () => {
    destroyAwsClients(stores.clients);
    await dynamo.close();
    await s3.close();
  };
  return { stores, s3Endpoint: s3.endpoint, dynamoEndpoint: dynamo.endpoint, close };
}

/** The environment a Lambda entry point reads, on these emulators; extra variables (queues, models) per test. */
export function lambdaEnvOnEmulators(emulators: LambdaEmulators, bucket: string, extra: Record<string, string> = {}): void {
  Object.assign(process.env, {
    [ENV.projectsTable]: DEFAULT_TABLE_NAMES.projects,
    [ENV.samplesTable]: DEFAULT_TABLE_NAMES.samples,
    [ENV.annotationsTable]: DEFAULT_TABLE_NAMES.annotations,
    [ENV.labelersTable]: DEFAULT_TABLE_NAMES.labelers,
    [ENV.bucket]: bucket,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    WINNOW_S3_ENDPOINT: emulators.s3Endpoint,
    WINNOW_DYNAMODB_ENDPOINT: emulators.dynamoEndpoint,
    ...extra,
  });
}
