// Cloud ingest at scale, in the cloud-in-a-box: 2,000 S3 event notifications (1,750 images, 250 of them notified
// twice) go through an SQS queue to the ingest Lambda's handler (its module, configured by environment, real models) in batches of 10 by 4 pollers, as the
// deployed event source mapping does (cdk.json: batchSize 10, maxConcurrency 4). The queue behaves as SQS may: S3
// sends some notifications twice, some batches are delivered again after they succeeded (a lost delete), and
// failed messages come back with a higher receive count. Every image must end ready exactly once: one record, one
// sample, one embedding row, one "ready" ingest.

import { randomUUID } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AwsStores } from '../../functions/adapters/aws/clients.js';
import { imageIdFor } from '../../functions/domain/ingest.js';
import { createProject } from '../../functions/domain/projects.js';
import { mapBounded } from '../../functions/domain/concurrency.js';
import { embeddingsPrefix, listShards, decodeShard } from '../../functions/adapters/embeddings/shards.js';
import { DEFAULT_EMBEDDER } from '../../functions/vision/default-embedder.js';
import { MODELS } from '../support/paths.js';
import { allPages } from '../support/pages.js';
import { createAwsStores, destroyAwsClients, ensureBucket, ensureTables } from '../../functions/adapters/aws/clients.js';
import { DEFAULT_TABLE_NAMES } from '../../functions/adapters/aws/schema.js';
import { DEFAULT_EMULATOR_CREDENTIALS, startDynaliteProcess } from '../../functions/local/emulators.js';
import { startS3rverProcess } from '../../functions/local/s3rver-process.js';
import { lambdaEnvOnEmulators, type LambdaEmulators } from '../support/lambda-env.js';
import { tempDir } from '../support/stack.js';
import { startSqsEmulator, type SqsEmulator } from '../support/sqs-emulator.js';

const BUCKET = 'winnow-ingest-scale';
const PROJECT = 'scale';
const IMAGES = 1750;
const BATCH_SIZE = 10;
const POLLERS = 4;
/** Every 7th image is notified twice (S3 delivers at least once). */
const DUPLICATE_EVERY = 7;
/** Every 9th batch is delivered again after it succeeded (its delete was lost). */
const REDELIVER_EVERY = 9;

/** A key as S3 spells it in a notification (URL-encoded, '+' for a space). */
const notificationKey = (key: string) => encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');

/** Image i: a small JPEG of its own colour, named with a space and a plus in some keys (the encoding must hold). */
async function makeImage(i: number): Promise<{ key: string; body: Buffer }> {
  const body = await sharp({ create: { width: 48, height: 36, channels: 3, background: { r: i % 256, g: (i * 7) % 256, b: (i * 13) % 256 } } })
    .jpeg({ quality: 80 })
    .toBuffer();
  const name = i % 10 === 0 ? `photo ${i}+a.jpg` : `photo-${i}.jpg`;
  return { key: `uploads/${PROJECT}/batch ${Math.floor(i / 500)}/${name}`, body };
}

function notification(key: string, size: number, etag: string): string {
  const record = {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: new Date().toISOString(),
    eventName: 'ObjectCreated:Put',
    s3: { s3SchemaVersion: '1.0', configurationId: 'ingest', bucket: { name: BUCKET, arn: `arn:aws:s3:::${BUCKET}` }, object: { key: notificationKey(key), size, eTag: etag, sequencer: '00' } },
  };
  return JSON.stringify({ Records: [record] });
}

/**
 * The event source mapping: pollers take up to `batchSize` visible messages, invoke the function, delete what it did
 * not report failed; reported failures become visible again with a higher receive count (after the visibility
 * timeout, here at once). Every `redeliverEvery`-th batch is delivered once more although it succeeded.
 */
async function pollUntilEmpty(queue: SQSRecord[], invoke: (event: SQSEvent) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>) {
  const stats = { invocations: 0, messages: 0, failures: 0, redelivered: 0 };
  let batches = 0;
  const poller = async () => {
    while (queue.length > 0) {
      const batch = queue.splice(0, BATCH_SIZE);
      const { batchItemFailures } = await invoke({ Records: batch });
      stats.invocations++;
      stats.messages += batch.length;
      const failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
      stats.failures += failed.size;
      const again = ++batches % REDELIVER_EVERY === 0 ? batch : batch.filter((m) => failed.has(m.messageId));
      for (const m of again) {
        if (!failed.has(m.messageId)) stats.redelivered++;
        const count = Number(m.attributes.ApproximateReceiveCount) + 1;
        queue.push({ ...m, receiptHandle: randomUUID(), attributes: { ...m.attributes, ApproximateReceiveCount: String(count) } });
      }
    }
  };
  await Promise.all(Array.from({ length: POLLERS }, poller));
  return stats;
}

/**
 * DynamoDB and S3 emulators in child processes (as the local stack runs them): in AWS the services are elsewhere, so
 * the function's thread does only its own work, and 2,000 images go through in well under a minute.
 */
async function emulatorsInChildren(): Promise<LambdaEmulators> {
  const credentials = DEFAULT_EMULATOR_CREDENTIALS;
  const dynamo = await startDynaliteProcess({ dir: await tempDir('ingest-scale-dynamodb'), credentials });
  // No events from the emulator: here they come through SQS, as in the cloud.
  const s3 = await startS3rverProcess({ dir: await tempDir('ingest-scale-s3'), bucket: BUCKET, credentials, eventPrefixes: [] });
  const stores = createAwsStores({ region: 'us-east-1', endpoints: { dynamodb: dynamo.endpoint, s3: s3.endpoint }, credentials, tables: DEFAULT_TABLE_NAMES, bucket: BUCKET });
  await ensureTables(stores, DEFAULT_TABLE_NAMES);
  await ensureBucket(stores, BUCKET);
  const close = async () => {
    destroyAwsClients(stores.clients);
    await dynamo.close();
    await s3.close();
  };
  return { stores, s3Endpoint: s3.endpoint, dynamoEndpoint: dynamo.endpoint, close };
}

describe('ingest at scale: 2,000 S3 event notifications through SQS to the ingest Lambda', () => {
  const closers: (() => Promise<void>)[] = [];
  let stores: AwsStores;
  let sqs: SqsEmulator;
  const keys: string[] = [];

  beforeAll(async () => {
    const emulators = await emulatorsInChildren();
    ({ stores } = emulators);
    sqs = await startSqsEmulator();
    closers.push(emulators.close, sqs.close);
    lambdaEnvOnEmulators(emulators, BUCKET, { WINNOW_MODELS: MODELS, WINNOW_TRAINER_QUEUE_URL: sqs.queueUrl('trainer'), WINNOW_EXPORT_QUEUE_URL: sqs.queueUrl('export') });
    await createProject(stores, { id: PROJECT, classes: ['warm', 'cool'] }, 'owner');
    // The uploads (as `aws s3 sync` would make them), each with its S3 notification on the ingest queue.
    const uploads = await mapBounded(Array.from({ length: IMAGES }, (_, i) => i), 16, async (i) => {
      const { key, body } = await makeImage(i);
      const { etag } = await stores.blobs.put(key, body, 'image/jpeg');
      return { key, size: body.length, etag };
    });
    uploads.forEach(({ key, size, etag }, i) => {
      keys.push(key);
      sqs.send('ingest', notification(key, size, etag));
      if (i % DUPLICATE_EVERY === 0) sqs.send('ingest', notification(key, size, etag));
    });
    sqs.send('ingest', JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: BUCKET }));
  }, 120_000);
  afterAll(async () => {
    vi.restoreAllMocks();
    for (const close of closers) await close();
  });

  it('ends every image ready exactly once, with one sample and one embedding row each', async () => {
    const { handler } = await import('../../functions/ingest/lambda.js');
    // The function's JSON log lines, read to count each image's outcomes (they still reach the console when not one).
    const readyCount = new Map<string, number>();
    const otherLines: string[] = [];
    const log = console.log.bind(console);
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      const parsed = typeof line === 'string' && line.startsWith('{') ? (JSON.parse(line) as { msg?: string }) : undefined;
      const ready = parsed?.msg && /^ingest: (".*") ready \(/.exec(parsed.msg);
      if (ready) readyCount.set(JSON.parse(ready[1]) as string, (readyCount.get(JSON.parse(ready[1]) as string) ?? 0) + 1);
      else if (parsed?.msg && !/ skipped: already ingested/.test(parsed.msg)) otherLines.push(parsed.msg);
      else if (!parsed) log(line);
    });

    const queue = sqs.drain('ingest');
    const notifications = IMAGES + Math.ceil(IMAGES / DUPLICATE_EVERY) + 1;
    expect(queue).toHaveLength(notifications);
    const started = performance.now();
    const stats = await pollUntilEmpty(queue, (event) => handler(event));
    const seconds = (performance.now() - started) / 1000;
    vi.restoreAllMocks();
    console.log(
      `ingest-scale: ${IMAGES} images, ${notifications} notifications, ${stats.invocations} invocations (${stats.messages} messages, ` +
        `${stats.redelivered} redelivered after success, ${stats.failures} reported failed) in ${seconds.toFixed(1)} s`,
    );

    expect(otherLines.filter((l) => /error|failed|gave up/.test(l))).toEqual([]);
    expect(stats.failures).toBe(0);
    expect(stats.redelivered).toBeGreaterThan(0);
    // Each image reached "ready" once, whatever the duplicates and redeliveries.
    expect(readyCount.size).toBe(IMAGES);
    expect([...readyCount.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(readyCount.keys())).toEqual(new Set(keys));

    const images = await allPages((cursor) => stores.samples.listImages(PROJECT, { cursor, limit: 1000 }));
    expect(images).toHaveLength(IMAGES);
    expect(images.filter((i) => i.status !== 'ready').map((i) => `${i.key}: ${i.status} ${i.reason ?? ''}`)).toEqual([]);
    expect(new Set(images.map((i) => i.imageId))).toEqual(new Set(keys.map(imageIdFor)));
    const samples = await allPages((cursor) => stores.samples.listSamples(PROJECT, { cursor, limit: 1000 }));
    expect(samples.map((s) => s.sampleId).sort()).toEqual(keys.map(imageIdFor).sort());

    // The trainer's embeddings: one row per image across the shards written (none lost, none twice).
    const shards = await listShards(stores.blobs, embeddingsPrefix(PROJECT, DEFAULT_EMBEDDER));
    const rows: string[] = [];
    for (const shard of shards) rows.push(...decodeShard((await stores.blobs.get(shard.key))!.body, shard.key).sampleIds);
    expect(rows.sort()).toEqual(keys.map(imageIdFor).sort());
    // The shards are appended in groups, not one object per image.
    expect(shards.length).toBeLessThan(IMAGES / 2);
  }, 120_000);
});
