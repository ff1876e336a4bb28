import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { imageIdFor } from '../../functions/domain/ingest.js';
import { createProject } from '../../functions/domain/projects.js';
import { createIngestHandler } from '../../functions/ingest/handler.js';
import { FLOWERS } from '../support/paths.js';
import { sharedAnalyzer } from '../support/stack.js';

const s3Message = (id: string, key: string) => ({
  messageId: id,
  body: JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', eventTime: '2026-11-22T09:00:00.000Z', s3: { object: { key: encodeURIComponent(key), size: 1 } } }] }),
});

async function setup() {
  const stores = createMemoryStores();
  await createProject(stores, { id: 'p', classes: ['a', 'b'] }, 'owner');
  const photo = await readFile(path.join(FLOWERS, 'daisy/100080576_f52e8ee070_n.jpg'));
  return { stores, photo, analyzer: await sharedAnalyzer() };
}

describe('ingest handler', () => {
  it('reports only the message whose ingest hit an infrastructure error, and ingests the rest', async () => {
    const { stores, photo, analyzer } = await setup();
    await stores.blobs.put('uploads/p/good.jpg', photo, 'image/jpeg');
    await stores.blobs.put('uploads/p/flaky.jpg', photo, 'image/jpeg');
    const get = stores.blobs.get.bind(stores.blobs);
    stores.blobs.get = async (key) => {
      if (key.endsWith('flaky.jpg')) throw new Error('connection reset');
      return get(key);
    };
    const handler = createIngestHandler({ stores, analyzer }, { log: () => undefined });
    const result = await handler.handleSqs({ Records: [s3Message('m1', 'uploads/p/good.jpg'), s3Message('m2', 'uploads/p/flaky.jpg')] } as SQSEvent);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm2' }]);
    expect((await stores.samples.getImage('p', imageIdFor('uploads/p/good.jpg')))?.status).toBe('ready');
    // The failed one stays pending so the retry picks it up, and then succeeds.
    expect((await stores.samples.getImage('p', imageIdFor('uploads/p/flaky.jpg')))?.status).toBe('pending');
    stores.blobs.get = get;
    expect((await handler.handleSqs({ Records: [s3Message('m2', 'uploads/p/flaky.jpg')] } as SQSEvent)).batchItemFailures).toEqual([]);
    expect((await stores.samples.getImage('p', imageIdFor('uploads/p/flaky.jpg')))?.status).toBe('ready');
  });

  it('marks a bad file failed with a reason, writes no derived files, and leaves the other images alone', async () => {
    const { stores, photo, analyzer } = await setup();
    await stores.blobs.put('uploads/p/ok.jpg', photo, 'image/jpeg');
    await stores.blobs.put('uploads/p/drawing.jpg', new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), 'image/jpeg');
    const handler = createIngestHandler({ stores, analyzer }, { log: () => undefined });
    const results = await handler.handleRecords(
      ['uploads/p/ok.jpg', 'uploads/p/drawing.jpg'].map((key) => ({ key, eventName: 'ObjectCreated:Put', eventTime: '2026-11-22T09:00:00Z' })),
    );
    expect(results.map((r) => r.outcome?.status)).toEqual(['ready', 'failed']);
    const bad = await stores.samples.getImage('p', imageIdFor('uploads/p/drawing.jpg'));
    expect(bad).toMatchObject({ status: 'failed' });
    expect(bad!.reason).toMatch(/svg/i);
    expect((await stores.blobs.list('derived/p/')).items.every((o) => !o.key.includes(bad!.imageId))).toBe(true);
    expect((await stores.samples.listSamples('p')).items).toHaveLength(1);
  });

  it('fails a file above the size limit with the reason, without downloading it when the event gives its size', async () => {
    const { stores, photo, analyzer } = await setup();
    await stores.blobs.put('uploads/p/big.jpg', photo, 'image/jpeg');
    await stores.blobs.put('uploads/p/grew.jpg', photo, 'image/jpeg');
    const reads: string[] = [];
    const get = stores.blobs.get.bind(stores.blobs);
    stores.blobs.get = async (key) => {
      reads.push(key);
      return get(key);
    };
    const handler = createIngestHandler({ stores, analyzer, maxBytes: 1000 }, { log: () => undefined });
    const record = (key: string, size: number) => ({ key, size, eventName: 'ObjectCreated:Put', eventTime: '2026-11-22T09:00:00Z' });
    // The event of one says how large it is; the other claims a small file that has since been replaced.
    const results = await handler.handleRecords([record('uploads/p/big.jpg', photo.length), record('uploads/p/grew.jpg', 10)]);
    expect(results.map((r) => r.outcome?.status)).toEqual(['failed', 'failed']);
    for (const key of ['uploads/p/big.jpg', 'uploads/p/grew.jpg']) {
      const image = await stores.samples.getImage('p', imageIdFor(key));
      expect(image?.reason).toBe(`file is ${photo.length} bytes, above the 1000-byte limit`);
    }
    expect(reads).toEqual(['uploads/p/grew.jpg']);
  });
});
