// Ingest hands back analyses that finish close together as one group (functions/ingest/finish-together.ts), so that
// their writes group: one embedding shard and one batch of records for several images instead of one each. What a
// user would notice if it went wrong: an upload that sits waiting for others that never come, an image lost or left
// without its embeddings, a bad file holding good ones back. Real analyzer (ONNX models) on real photos.

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { EmbeddingReader } from '../../functions/adapters/embeddings/reader.js';
import { listShards } from '../../functions/adapters/embeddings/shards.js';
import { afterAnalysis } from '../../functions/adapters/aws/services.js';
import { BUCKET_LAYOUT } from '../../functions/domain/layout.js';
import { createProject } from '../../functions/domain/projects.js';
import type { ImageAnalysis } from '../../functions/domain/ports.js';
import { createIngestHandler } from '../../functions/ingest/handler.js';
import { finishTogether } from '../../functions/ingest/finish-together.js';
import { FLOWERS } from '../support/paths.js';
import { sharedAnalyzer } from '../support/stack.js';

/** Longer than any test may run: an analysis that waited for this long would time the test out. */
const FOREVER = 10 * 60_000;

async function photos(n: number): Promise<Uint8Array[]> {
  const names = (await readdir(path.join(FLOWERS, 'daisy'))).filter((f) => f.endsWith('.jpg')).sort().slice(0, n);
  return Promise.all(names.map(async (f) => new Uint8Array(await readFile(path.join(FLOWERS, 'daisy', f)))));
}

/** Each analysis's promise, with how many of them had been handed back by the end of the turn the first came in. */
function watch(analyses: Promise<ImageAnalysis>[]) {
  let handedBack = 0;
  const firstTurn = new Promise<number>((resolve) => {
    for (const a of analyses) {
      void a.then(
        () => {
          if (handedBack++ === 0) setImmediate(() => resolve(handedBack));
        },
        () => undefined,
      );
    }
  });
  return { firstTurn, all: Promise.all(analyses) };
}

describe('analyses handed back together', () => {
  it('hands a lone analysis back at once, without waiting for others', async () => {
    const analyzer = finishTogether(await sharedAnalyzer(), { maxWaitMs: FOREVER });
    const [photo] = await photos(1);
    const analysis = await analyzer.analyze(photo, { detect: true });
    expect(analysis.embedding).toHaveLength(1280);
  });

  it('hands analyses that finish while others run back together, in groups of at most maxGroup', async () => {
    const base = await sharedAnalyzer();
    const batch = await photos(6);
    const analyzer = finishTogether(base, { maxWaitMs: FOREVER });
    const all = watch(batch.map((bytes) => analyzer.analyze(bytes, { detect: true })));
    expect(await all.firstTurn).toBe(6); // the last to finish let the five that waited go with it
    expect((await all.all).every((a) => a.embedding?.length === 1280)).toBe(true);

    const pairs = finishTogether(base, { maxWaitMs: FOREVER, maxGroup: 2 });
    const grouped = watch(batch.map((bytes) => pairs.analyze(bytes, { detect: true })));
    expect(await grouped.firstTurn).toBe(2);
    await grouped.all;
  });

  it('a bad file fails at once, and does not hold the good ones waiting for it', async () => {
    const analyzer = finishTogether(await sharedAnalyzer(), { maxWaitMs: FOREVER });
    const [good] = await photos(1);
    const bad = new TextEncoder().encode('this is not an image');
    const [goodResult, badResult] = await Promise.allSettled([analyzer.analyze(good, { detect: true }), analyzer.analyze(bad, { detect: true })]);
    expect(goodResult.status).toBe('fulfilled');
    expect(badResult.status).toBe('rejected');
    expect(((badResult as PromiseRejectedResult).reason as Error).message).toMatch(/not|image|format/i);
  });

  it('ingests a burst of uploads with detection: every image ready, every sample embedded once, one shard per group', async () => {
    const stores = createMemoryStores();
    await createProject(stores, { id: 'p', classes: ['daisy', 'other'], detection: { enabled: true } }, 'owner');
    const analyzer = await sharedAnalyzer();
    const batch = await photos(12);
    const keys = batch.map((_, i) => BUCKET_LAYOUT.uploadKey('p', `daisy-${i}.jpg`));
    for (const [i, key] of keys.entries()) await stores.blobs.put(key, batch[i], 'image/jpeg');
    const embedder = analyzer.status().embedder!;
    const onAnalyzed = afterAnalysis(stores, embedder, () => undefined);
    const handler = createIngestHandler({ stores, analyzer, onAnalyzed }, { log: () => undefined, finishTogether: { maxWaitMs: FOREVER } });

    const results = await handler.handleRecords(keys.map((key) => ({ key, eventName: 'ObjectCreated:Put', eventTime: '2026-12-06T09:00:00Z' })));
    expect(results.map((r) => r.outcome?.status)).toEqual(keys.map(() => 'ready'));

    const samples = (await stores.samples.listSamples('p', { limit: 1000 })).items;
    expect(samples.filter((s) => s.kind === 'image')).toHaveLength(12);
    const rows = await new EmbeddingReader(stores.blobs, 'p', embedder).load();
    expect([...rows.sampleIds].sort()).toEqual(samples.map((s) => s.sampleId).sort());
    const shards = await listShards(stores.blobs, BUCKET_LAYOUT.embeddingsPrefix('p'));
    expect(shards.length).toBeLessThanOrEqual(2); // groups of at most 8 (one shard each for 12 images before)
  });
});
