// What the local stack relies on from the embedded emulators beyond the storage contract: upload events,
// data that survives a restart, and idempotent provisioning.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsStores, destroyAwsClients, ensureBucket, ensureTables, type AwsStores } from '../../functions/adapters/aws/clients.js';
import { DEFAULT_TABLE_NAMES } from '../../functions/adapters/aws/schema.js';
import { startDynalite, startS3rver, type RunningEmulator } from '../../functions/local/emulators.js';
import { aProject, flowerJpeg, uniqueId } from './fixtures.js';

const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const storesFor = (endpoints: { dynamodb?: string; s3?: string }, bucket = 'winnow-local') =>
  createAwsStores({ region: 'us-east-1', endpoints, credentials: CREDENTIALS, tables: DEFAULT_TABLE_NAMES, bucket });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'winnow-emulators-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('s3rver', () => {
  let s3: Awaited<ReturnType<typeof startS3rver>>;
  let stores: AwsStores;
  beforeAll(async () => {
    s3 = await startS3rver({ dir: join(dir, 's3'), bucket: 'winnow-local' });
    stores = storesFor({ s3: s3.endpoint });
  });
  afterAll(async () => {
    destroyAwsClients(stores.clients);
    await s3.close();
  });

  it('announces each upload as an S3 ObjectCreated event', async () => {
    const key = `uploads/${uniqueId('p')}/daisy.jpg`;
    const jpeg = await flowerJpeg();
    const announced = new Promise<{ Records: { eventName: string; s3: { bucket: { name: string }; object: { key: string; size: number; eTag: string } } }[] }>(
      (resolve) => s3.server.once('event', resolve),
    );
    const { etag } = await stores.blobs.put(key, jpeg, 'image/jpeg');
    const [record] = (await announced).Records;
    expect(record.eventName).toBe('ObjectCreated:Put');
    expect(record.s3.bucket.name).toBe('winnow-local');
    expect(record.s3.object).toMatchObject({ key, size: jpeg.byteLength, eTag: etag });
  });

  it('leaves an existing bucket and its objects alone, and creates a missing one', async () => {
    await stores.blobs.put('uploads/keep/me.txt', new TextEncoder().encode('kept'), 'text/plain');
    await ensureBucket(stores.clients.s3, 'winnow-local');
    expect(await stores.blobs.head('uploads/keep/me.txt')).toMatchObject({ bytes: 4 });

    await ensureBucket(stores.clients.s3, 'winnow-other');
    const other = storesFor({ s3: s3.endpoint }, 'winnow-other');
    await other.blobs.put('a.txt', new Uint8Array([7]), 'text/plain');
    expect((await other.blobs.get('a.txt'))?.body).toEqual(new Uint8Array([7]));
    destroyAwsClients(other.clients);
  });
});

describe('dynalite', () => {
  it('keeps tables and items in its folder across restarts', async () => {
    const folder = join(dir, 'dynamodb');
    const project = aProject(uniqueId('p'));
    const firstRun: RunningEmulator = await startDynalite({ dir: folder });
    const first = storesFor({ dynamodb: firstRun.endpoint });
    await ensureTables(first.clients.dynamodb, DEFAULT_TABLE_NAMES);
    await first.projects.create(project);
    destroyAwsClients(first.clients);
    await firstRun.close();

    const secondRun = await startDynalite({ dir: folder });
    const second = storesFor({ dynamodb: secondRun.endpoint });
    try {
      // Provisioning again finds the tables and changes nothing.
      await ensureTables(second.clients.dynamodb, DEFAULT_TABLE_NAMES);
      expect(await second.projects.get(project.id)).toEqual(project);
    } finally {
      destroyAwsClients(second.clients);
      await secondRun.close();
    }
  });
});
