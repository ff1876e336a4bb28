// The benchmarks' stores, set up one way: dynalite and the S3 emulator (the local stack's emulators) in a data
// folder, the AWS adapters over them, the tables and the bucket made. `close` destroys the clients and stops both.

import path from 'node:path';
import { createAwsStores, destroyAwsClients, ensureBucket, ensureTables, type AwsStores } from '../../../functions/adapters/aws/clients.js';
import { DEFAULT_TABLE_NAMES } from '../../../functions/adapters/aws/schema.js';
import { startDynaliteProcess, startS3rver } from '../../../functions/local/emulators.js';

export const BENCH_BUCKET = 'winnow-bench';

export interface EmulatedStores {
  stores: AwsStores;
  /** The emulators' endpoints, for a child process that opens its own clients. */
  endpoints: { dynamodb: string; s3: string };
  bucket: string;
  close(): Promise<void>;
}

export async function startEmulatedStores(dataDir: string, bucket = BENCH_BUCKET): Promise<EmulatedStores> {
  const dynamo = await startDynaliteProcess({ dir: path.join(dataDir, 'dynamodb') });
  const s3 = await startS3rver({ dir: path.join(dataDir, 's3'), bucket });
  const endpoints = { dynamodb: dynamo.endpoint, s3: s3.endpoint };
  const stores = createAwsStores({
    region: 'us-east-1',
    endpoints,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    tables: DEFAULT_TABLE_NAMES,
    bucket,
  });
  const close = async () => {
    destroyAwsClients(stores.clients);
    await s3.close();
    await dynamo.close();
  };
  try {
    await ensureTables(stores, DEFAULT_TABLE_NAMES);
    await ensureBucket(stores, bucket);
  } catch (err) {
    await close();
    throw err;
  }
  return { stores, endpoints, bucket, close };
}
