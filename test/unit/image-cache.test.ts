import { describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { cachedImages } from '../../functions/adapters/image-cache.js';
import type { ImageRecord } from '../../functions/domain/model.js';
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
