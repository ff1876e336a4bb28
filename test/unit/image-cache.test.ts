import { describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { cachedImages } from '../../functions/adapters/image-cache.js';
import type { ImageRecord, RankedQueue } from '../../functions/domain/model.js';
import { ManualClock, sampleFixture } from '../support/fixtures.js';

const image = (imageId: string, over: Partial<ImageRecord> = {}): ImageRecord => ({
  projectId: 'p', imageId, key: `uploads/p/${imageId}.jpg`, etag: 'e1', bytes: 10, width: 640, height: 480,
  status: 'ready', order: `o-${imageId}`, createdAt: 'x', updatedAt: 'x', ...over,
});

describe('image records presented with served samples', () => {
  it('are kept while ready, refreshed after their lifetime, and never stale after a write through the cache', async () => {
    const clock = new ManualClock();
    const raw = createMemoryStores(clock).samples;
    const images = cachedImages(raw, clock, 60_000);
    await raw.putImage(image('i1'));
    expect((await images.getImage('p', 'i1'))?.width).toBe(640);
    // Replaced by another process (a new upload): shown once the entry's lifetime is over.
    await raw.putImage(image('i1', { width: 800 }));
    expect((await images.getImage('p', 'i1'))?.width).toBe(640);
    clock.advance(60_001);
    expect((await images.getImage('p', 'i1'))?.width).toBe(800);
    // Written through the cache (this process's ingest): shown at once.
    await images.putImage(image('i1', { width: 1024 }));
    expect((await images.getImage('p', 'i1'))?.width).toBe(1024);
  });

  it('read an image that is still being ingested again on every request, so its status shows as soon as it changes', async () => {
    const clock = new ManualClock();
    const raw = createMemoryStores(clock).samples;
    const images = cachedImages(raw, clock);
    await raw.putImage(image('i2', { status: 'pending' }));
    expect((await images.getImage('p', 'i2'))?.status).toBe('pending');
    await raw.putImage(image('i2', { status: 'failed', reason: 'not an image' }));
    expect(await images.getImage('p', 'i2')).toMatchObject({ status: 'failed', reason: 'not an image' });
  });

  it('fetch the image of a whole-image sample while its lease is written, and stop guessing for box samples', async () => {
    const clock = new ManualClock();
    const raw = createMemoryStores(clock).samples;
    let reads = 0;
    const getImage = raw.getImage.bind(raw);
    raw.getImage = (projectId, imageId) => {
      reads++;
      return getImage(projectId, imageId);
    };
    const images = cachedImages(raw, clock);
    const lease = (sampleId: string) => images.lease('p', sampleId, { labelerId: 'ann', until: clock.now() + 60_000 }, clock.now());

    await raw.putImage(image('i3'));
    await raw.putSamplesIfAbsent([sampleFixture('p', 3, { sampleId: 'i3', imageId: 'i3' })]);
    const leased = await lease('i3');
    expect(reads).toBe(1); // started with the lease...
    expect((await images.getImage('p', leased!.imageId))?.key).toBe('uploads/p/i3.jpg');
    expect(reads).toBe(1); // ...and not read again

    // Box samples carry another id than their image: after a few wrong guesses, no more guessing.
    const boxes = Array.from({ length: 40 }, (_, i) => sampleFixture('p', 100 + i, { sampleId: `i3-b${i}`, imageId: 'i3', kind: 'box' }));
    await raw.putSamplesIfAbsent(boxes);
    for (const box of boxes.slice(0, 30)) await images.getImage('p', (await lease(box.sampleId))!.imageId);
    const before = reads;
    for (const box of boxes.slice(30)) await images.getImage('p', (await lease(box.sampleId))!.imageId);
    expect(reads).toBe(before);
  });
});

describe('image records read ahead along the ranking', () => {
  const ranked = (ids: string[]): RankedQueue => ({
    projectId: 'p', generation: 1, createdAt: 'x', strategy: 'test', coldStart: true, labels: 0, classes: 2, sampleIds: ids,
  });

  async function setup(n: number) {
    const clock = new ManualClock();
    const stores = createMemoryStores(clock);
    const raw = stores.samples;
    const reads = { single: 0, batches: 0, batched: 0 };
    const getImage = raw.getImage.bind(raw);
    const getImages = raw.getImages.bind(raw);
    raw.getImage = (projectId, imageId) => (reads.single++, getImage(projectId, imageId));
    raw.getImages = (projectId, ids) => (reads.batches++, (reads.batched += ids.length), getImages(projectId, ids));
    const ids = Array.from({ length: n }, (_, i) => `i${String(i).padStart(4, '0')}`);
    for (const id of ids) await raw.putImage(image(id));
    await raw.putSamplesIfAbsent(ids.map((id, i) => sampleFixture('p', i, { sampleId: id, imageId: id })));
    await stores.rankings.put(ranked(ids));
    const images = cachedImages(raw, clock, 10_000, { rankings: stores.rankings });
    const settle = () => new Promise((r) => setTimeout(r, 0));
    const serve = async (sampleId: string, labelerId = 'ann') => {
      const leased = await images.lease('p', sampleId, { labelerId, until: clock.now() + 60_000 }, clock.now());
      await settle();
      return images.getImage('p', leased!.imageId);
    };
    return { clock, raw, images, ids, reads, serve, settle };
  }

  it('a lease reads the next 100 ranked images in one request: the labels that follow read no image at all', async () => {
    const { ids, reads, serve } = await setup(250);
    for (const id of ids.slice(0, 100)) expect((await serve(id))?.key).toBe(`uploads/p/${id}.jpg`);
    expect(reads).toEqual({ single: 0, batches: 1, batched: 100 });
    // The walk moves past the batch: the next lease reads the next 100.
    await serve(ids[100]);
    expect(reads).toEqual({ single: 0, batches: 2, batched: 200 });
  });

  it('keep the cache honest: a deleted image is not presented, a record still being ingested is read again, entries expire', async () => {
    const { clock, raw, images, ids, reads, serve, settle } = await setup(20);
    await raw.putImage(image(ids[3], { status: 'pending' }));
    await serve(ids[0]); // reads ids 0..19 ahead
    expect(reads.batches).toBe(1);
    // Deleted through the cache (deletion runs through the API's stores): gone at once, though it was read ahead.
    await images.deleteImage('p', ids[1]);
    expect(await images.getImage('p', ids[1])).toBeUndefined();
    // Not ready when read ahead: not kept, so its status shows as soon as it changes.
    await raw.putImage(image(ids[3], { status: 'failed', reason: 'not an image' }));
    expect(await images.getImage('p', ids[3])).toMatchObject({ status: 'failed', reason: 'not an image' });
    // Replaced by another process: shown once the read-ahead entry's lifetime is over, like any cached read.
    await raw.putImage(image(ids[5], { width: 800 }));
    clock.advance(10_001);
    await settle();
    expect((await images.getImage('p', ids[5]))?.width).toBe(800);
  });

  it('samples whose ids are not image ids (boxes) soon stop the reading ahead', async () => {
    const { raw, images, reads, settle, clock } = await setup(1);
    const boxes = Array.from({ length: 600 }, (_, i) => sampleFixture('p', 10 + i, { sampleId: `i0000-b${i}`, imageId: 'i0000', kind: 'box' }));
    await raw.putSamplesIfAbsent(boxes);
    const stores = { rankings: { get: async () => ranked(boxes.map((b) => b.sampleId)) } };
    const boxed = cachedImages(raw, clock, 10_000, stores);
    for (const b of boxes) {
      await boxed.lease('p', b.sampleId, { labelerId: 'ann', until: clock.now() + 60_000 }, clock.now());
      await settle();
    }
    expect(reads.batched).toBeLessThanOrEqual(300);
    void images;
  });
});
