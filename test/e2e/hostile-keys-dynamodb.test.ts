// A key of S3's full 1,024 bytes on AWS's own DynamoDB engine (DynamoDB Local, Java), which enforces the 1,024-byte
// limit on index sort keys that dynalite lets through: the image is ingested, and its queue position (derived from
// the upload's name) still fits the index.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageIdFor } from '../../functions/domain/ingest.js';
import { createProject } from '../../functions/domain/projects.js';
import { createIngestHandler } from '../../functions/ingest/handler.js';
import { javaAvailable, startDynamoDbLocal } from '../../functions/local/emulators.js';
import { startAwsTarget, type AwsTarget } from '../contract/aws-target.js';
import { FLOWERS } from '../support/paths.js';
import { sharedAnalyzer } from '../support/stack.js';

const hasJava = javaAvailable();
if (!hasJava && process.env.CI) throw new Error('Java 17 is required for the DynamoDB Local tests in CI');

describe.runIf(hasJava)('hostile keys on DynamoDB Local', () => {
  let target: AwsTarget;
  beforeAll(async () => {
    target = await startAwsTarget(() => startDynamoDbLocal());
  });
  afterAll(async () => target?.close());

  it('ingests an upload whose key is 1,024 bytes, and a second one that differs only at the end', async () => {
    const { stores } = target;
    await createProject(stores, { id: 'p', classes: ['a', 'b'] }, 'owner');
    const photo = await readFile(path.join(FLOWERS, 'daisy/100080576_f52e8ee070_n.jpg'));
    const prefix = 'uploads/p/' + ('é'.repeat(100) + '/').repeat(4);
    const keys = ['1.jpg', '2.jpg'].map((end) => prefix + 'z'.repeat(1024 - Buffer.byteLength(prefix) - end.length) + end);
    for (const key of keys) {
      expect(Buffer.byteLength(key)).toBe(1024);
      await stores.blobs.put(key, photo, 'image/jpeg');
    }
    const handler = createIngestHandler({ stores, analyzer: await sharedAnalyzer() }, { log: () => undefined });
    const results = await handler.handleRecords(keys.map((key) => ({ key, eventName: 'ObjectCreated:Put', eventTime: '2026-12-06T08:00:00.000Z' })));
    expect(results.map((r) => r.error ?? r.outcome?.status)).toEqual(['ready', 'ready']);
    for (const key of keys) expect((await stores.samples.getImage('p', imageIdFor(key)))?.status).toBe('ready');
    // Both are in the labeling queue, in upload order.
    const queued = (await stores.samples.listSamples('p')).items.filter((s) => s.queueKey);
    expect(queued).toHaveLength(2);
    expect(new Set(queued.map((s) => s.queueKey)).size).toBe(2);
  });
});
