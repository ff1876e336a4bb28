// Upload event keys as each source spells them: the cloud's S3 notifications URL-encode keys ('+' for a space),
// the local emulator's events and reconcile-on-start carry them as they are. Names with `%`, `+`, `#?&;`,
// unicode and encoded slashes are each ingested under their real key, and no key can throw out of the local
// event listener.

import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { AwsConfig } from '../../functions/adapters/aws/clients.js';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { imageIdFor } from '../../functions/domain/ingest.js';
import { createProject } from '../../functions/domain/projects.js';
import { decodeNotificationKey, uploadEvents } from '../../functions/ingest/event-keys.js';
import { createIngestHandler } from '../../functions/ingest/handler.js';
import { IngestQueue } from '../../functions/local/ingest-queue.js';
import { startPipeline } from '../../functions/local/pipeline.js';
import { reconcileUploads } from '../../functions/local/reconcile.js';
import { FLOWERS } from '../support/paths.js';
import { sharedAnalyzer } from '../support/stack.js';

/** Names that a decoding mistake would break or lose (escapes, '+', reserved characters, unicode), as stored in the bucket. */
const NAMES = ['c+d.png', '50% off.png', '100%.png', '..%2f..%2fetc%2fpasswd.png', 'straße 日本語 🌼.png', 'a#b?c&d;e.png', 'x%zz%.png'];

/** How S3 spells a key in a notification: URL-encoded, a space as '+'. */
const notificationKey = (key: string) => encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');

async function setup() {
  const stores = createMemoryStores();
  await createProject(stores, { id: 'p', classes: ['a', 'b'] }, 'owner');
  const photo = await readFile(path.join(FLOWERS, 'daisy/100080576_f52e8ee070_n.jpg'));
  for (const name of NAMES) await stores.blobs.put(`uploads/p/${name}`, photo, 'image/jpeg');
  return { stores, analyzer: await sharedAnalyzer() };
}

const statusOf = async (stores: Awaited<ReturnType<typeof setup>>['stores'], name: string) =>
  (await stores.samples.getImage('p', imageIdFor(`uploads/p/${name}`)))?.status;

describe('upload event keys', () => {
  it('decodes S3 notification keys (the cloud) and never throws on a malformed one', () => {
    expect(decodeNotificationKey('uploads/p/c%2Bd.png')).toBe('uploads/p/c+d.png');
    expect(decodeNotificationKey('uploads/p/50%25+off.png')).toBe('uploads/p/50% off.png');
    expect(decodeNotificationKey('uploads/p/..%252f..%252fetc%252fpasswd.png')).toBe('uploads/p/..%2f..%2fetc%2fpasswd.png');
    for (const name of NAMES) expect(decodeNotificationKey(notificationKey(`uploads/p/${name}`))).toBe(`uploads/p/${name}`);
    expect(decodeNotificationKey('uploads/p/100%.png')).toBeUndefined();
    expect(decodeNotificationKey('uploads/p/%E0%A4%A.png')).toBeUndefined();
  });

  it('keeps the local emulator keys as they are, and rejects records without a key with a reason', () => {
    const record = (key: unknown) => ({ eventName: 'ObjectCreated:Put', eventTime: '2026-12-06T08:00:00Z', s3: { object: { key, size: 5, eTag: 'e' } } });
    const { events, rejected } = uploadEvents([...NAMES.map((n) => record(`uploads/p/${n}`)), record(undefined), null, { s3: {} }], 'raw');
    expect(events.map((e) => e.key)).toEqual(NAMES.map((n) => `uploads/p/${n}`));
    expect(events[0]).toEqual({ key: 'uploads/p/c+d.png', eventName: 'ObjectCreated:Put', eventTime: '2026-12-06T08:00:00Z', size: 5, etag: 'e' });
    expect(rejected).toHaveLength(3);
    expect(rejected[0].reason).toMatch(/no object key/);
    const cloud = uploadEvents([record('uploads/p/100%.png')], 'url-encoded');
    expect(cloud.events).toEqual([]);
    expect(cloud.rejected[0].reason).toMatch(/not valid URL encoding/);
  });

  it('ingests every hostile name from SQS-wrapped S3 notifications; a malformed key is logged, not retried', async () => {
    const { stores, analyzer } = await setup();
    const lines: string[] = [];
    const handler = createIngestHandler({ stores, analyzer }, { log: (l) => lines.push(l) });
    const body = (key: string) => JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', eventTime: '2026-12-06T08:00:00Z', s3: { object: { key } } }] });
    const messages = NAMES.map((name, i) => ({ messageId: `m${i}`, body: body(notificationKey(`uploads/p/${name}`)) }));
    messages.push({ messageId: 'bad', body: body('uploads/p/100%.png') });
    const result = await handler.handleSqs({ Records: messages } as SQSEvent);
    expect(result.batchItemFailures).toEqual([]);
    for (const name of NAMES) expect(await statusOf(stores, name)).toBe('ready');
    expect(lines.some((l) => l.includes('message bad') && /not valid URL encoding/.test(l))).toBe(true);
  });

  it('ingests every hostile name from the local emulator event; nothing thrown escapes the listener', async () => {
    const { stores, analyzer } = await setup();
    const s3 = new EventEmitter();
    const lines: string[] = [];
    // The stores are in memory, so ingest runs on this thread (a thread of its own would build AWS clients).
    const pipeline = startPipeline(stores, {} as AwsConfig, s3, { analyzer, ingestConcurrency: 2, ingestThread: false, log: (l) => lines.push(l) });
    try {
      const record = (key: string) => ({ eventName: 'ObjectCreated:Put', eventTime: '2026-12-06T08:00:00Z', s3: { object: { key } } });
      // Before the fix, the first of these threw a URIError out of emit() (and took the local server down).
      for (const name of NAMES) expect(() => s3.emit('event', { Records: [record(`uploads/p/${name}`)] })).not.toThrow();
      expect(() => s3.emit('event', { Records: [{ eventName: 'ObjectCreated:Put' }, null] })).not.toThrow();
      expect(() => s3.emit('event', null)).not.toThrow();
      await pipeline.ingest.idle();
      for (const name of NAMES) expect(await statusOf(stores, name)).toBe('ready');
      expect(lines.filter((l) => /record dropped/.test(l))).toHaveLength(2);
    } finally {
      await pipeline.close();
    }
  });

  it('reconcile-on-start queues the keys as listed, so hostile names are ingested after a restart', async () => {
    const { stores, analyzer } = await setup();
    const queue = new IngestQueue(createIngestHandler({ stores, analyzer }, { log: () => undefined }), 2);
    expect(await reconcileUploads(stores, queue, () => undefined)).toBe(NAMES.length);
    await queue.idle();
    for (const name of NAMES) expect(await statusOf(stores, name)).toBe('ready');
    expect(await reconcileUploads(stores, queue, () => undefined)).toBe(0);
  });

  it('an image whose ingest keeps failing ends failed with the error as its reason, and the next start tries it again', async () => {
    const { stores, analyzer } = await setup();
    const put = stores.samples.putSamplesIfAbsent.bind(stores.samples);
    const putIngested = stores.samples.putIngested.bind(stores.samples);
    let calls = 0;
    // The samples' write fails, whether made with the new image's record (first try) or on their own (retries).
    stores.samples.putSamplesIfAbsent = stores.samples.putIngested = async () => {
      calls++;
      throw new Error('ValidationException: key too large');
    };
    const queue = new IngestQueue(createIngestHandler({ stores, analyzer }, { log: () => undefined }), 2, { retryDelayMs: 20 });
    queue.push([{ key: 'uploads/p/c+d.png', eventName: 'ObjectCreated:Put' }]);
    await queue.idle();
    expect(calls).toBe(3);
    stores.samples.putSamplesIfAbsent = put;
    stores.samples.putIngested = putIngested;
    const image = await stores.samples.getImage('p', imageIdFor('uploads/p/c+d.png'));
    expect(image).toMatchObject({ status: 'failed', reason: 'ingest failed: ValidationException: key too large' });
    // Not a fault of the file: reconcile-on-start queues it again (with the other uploads, never ingested here).
    expect(await reconcileUploads(stores, queue, () => undefined)).toBe(NAMES.length);
    await queue.idle();
    expect(await statusOf(stores, 'c+d.png')).toBe('ready');
  });

  it('in the cloud, the last receive of a message whose ingest keeps failing ends the image failed, and still goes to the DLQ', async () => {
    const { stores, analyzer } = await setup();
    const put = stores.samples.putSamplesIfAbsent.bind(stores.samples);
    const putIngested = stores.samples.putIngested.bind(stores.samples);
    stores.samples.putSamplesIfAbsent = stores.samples.putIngested = async () => {
      throw new Error('ValidationException: Size limit exceeded');
    };
    const handler = createIngestHandler({ stores, analyzer }, { log: () => undefined, maxReceives: 3 });
    const message = (receives: number) => ({
      messageId: 'm',
      attributes: { ApproximateReceiveCount: String(receives) },
      body: JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { object: { key: notificationKey('uploads/p/50% off.png') } } }] }),
    });
    expect((await handler.handleSqs({ Records: [message(1)] } as unknown as SQSEvent)).batchItemFailures).toEqual([{ itemIdentifier: 'm' }]);
    expect(await statusOf(stores, '50% off.png')).toBe('pending'); // a later receive may still succeed
    expect((await handler.handleSqs({ Records: [message(3)] } as unknown as SQSEvent)).batchItemFailures).toEqual([{ itemIdentifier: 'm' }]);
    stores.samples.putSamplesIfAbsent = put;
    stores.samples.putIngested = putIngested;
    const image = await stores.samples.getImage('p', imageIdFor('uploads/p/50% off.png'));
    expect(image).toMatchObject({ status: 'failed', reason: 'ingest failed: ValidationException: Size limit exceeded' });
  });
});
