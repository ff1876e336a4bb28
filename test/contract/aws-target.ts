// The AWS adapters against local emulators: a DynamoDB endpoint (dynalite or DynamoDB Local) plus s3rver.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAwsStores, destroyAwsClients, ensureBucket, ensureTables, type AwsStores } from '../../functions/adapters/aws/clients.js';
import { DEFAULT_TABLE_NAMES } from '../../functions/adapters/aws/schema.js';
import { startS3rver, type RunningEmulator, type S3rverInstance } from '../../functions/local/emulators.js';
import { ShiftedClock } from './fixtures.js';
import type { RunningTarget } from './store-contract.js';

export const TEST_BUCKET = 'winnow-contract';

export interface AwsTarget extends RunningTarget {
  stores: AwsStores;
  s3rver: S3rverInstance;
}

/** `createTables`: how the tables come to be (default: as the local stack makes them, from TABLE_SCHEMAS). */
export async function startAwsTarget(
  startDynamo: () => Promise<RunningEmulator>,
  createTables: (stores: AwsStores) => Promise<void> = (stores) => ensureTables(stores.clients.dynamodb, DEFAULT_TABLE_NAMES),
): Promise<AwsTarget> {
  const dir = await mkdtemp(join(tmpdir(), 'winnow-s3-'));
  const closers: (() => Promise<void>)[] = [() => rm(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const c of closers.splice(0)) await c();
  };
  try {
    const [dynamo, s3] = await Promise.all([startDynamo(), startS3rver({ dir, bucket: TEST_BUCKET })]);
    closers.unshift(dynamo.close, s3.close);
    const clock = new ShiftedClock();
    const stores = createAwsStores({
      clock,
      region: 'us-east-1',
      endpoints: { dynamodb: dynamo.endpoint, s3: s3.endpoint },
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      tables: DEFAULT_TABLE_NAMES,
      bucket: TEST_BUCKET,
    });
    closers.unshift(async () => destroyAwsClients(stores.clients));
    await createTables(stores);
    await ensureBucket(stores.clients.s3, TEST_BUCKET);
    return { stores, clock, s3rver: s3.server, fetchPresigned: (url, init) => fetch(url, { ...init, body: init?.body?.slice() }), close };
  } catch (err) {
    await close();
    throw err;
  }
}
