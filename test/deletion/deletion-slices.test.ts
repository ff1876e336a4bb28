// A deletion job cut into slices (RunOptions.shouldPause, as the cloud's worker cuts it by the Lambda's remaining
// time), on the in-memory fakes: every slice makes one step and goes on from where the last one stopped, so the job
// finishes with each image, sample and annotation deleted once (the counts the owner sees are not inflated by
// repeated chunks), for images, a labeler's work and a project.

import { describe, expect, it } from 'vitest';
import { createMemoryStores, type MemoryStores } from '../../functions/adapters/memory/index.js';
import { annotate } from '../../functions/domain/annotate.js';
import { runDeletion, startImageDeletion, startLabelerDeletion, startProjectDeletion, type DeletionJob } from '../../functions/domain/deletion.js';
import { createProject } from '../../functions/domain/projects.js';
import { ManualClock, rid, sampleFixture } from '../support/fixtures.js';

const P = 'orchard';

async function seeded(images: number): Promise<MemoryStores> {
  const stores = createMemoryStores(new ManualClock());
  await createProject(stores, { id: P, name: 'Orchard', classes: ['apple', 'pear'], auditRate: 0 }, 'owner');
  for (let n = 1; n <= images; n++) {
    await stores.samples.putImage({ projectId: P, imageId: `i${n}`, key: `uploads/${P}/${n}.jpg`, etag: 'e', bytes: 1, status: 'ready', order: `o${n}`, createdAt: '2026-11-22T09:00:00.000Z', updatedAt: '2026-11-22T09:00:00.000Z' });
    await stores.blobs.put(`uploads/${P}/${n}.jpg`, new Uint8Array([1]), 'image/jpeg');
  }
  await stores.samples.putSamplesIfAbsent(Array.from({ length: images }, (_, i) => sampleFixture(P, i + 1, { sampleId: `i${i + 1}`, imageId: `i${i + 1}` })));
  return stores;
}

/** Runs the job a step per run until it is done; how many runs it took. */
async function inSlices(stores: MemoryStores, job: DeletionJob): Promise<{ runs: number; job: DeletionJob }> {
  for (let runs = 1; ; runs++) {
    const left = await runDeletion(stores, P, job.jobId, { shouldPause: () => true });
    if (left.status === 'done') return { runs, job: left };
    expect(left.status).toBe('running');
    expect(runs).toBeLessThan(50);
  }
}

describe('deletion jobs in slices', () => {
  it('250 images: resolve, 3 chunks hidden, 3 swept, each once', async () => {
    const stores = await seeded(250);
    const { runs, job } = await inSlices(stores, await startImageDeletion(stores, P, { filter: { status: 'ready' } }, 'owner'));
    expect(runs).toBe(1 + 3 + 3 + 1); // the last sweep chunk pauses before the job's last checks
    expect(job).toMatchObject({ progress: { done: 250, total: 250 }, deleted: { images: 250, samples: 250 } });
    expect((await stores.samples.listImages(P)).items).toEqual([]);
    expect((await stores.blobs.list(`uploads/${P}/`)).items).toEqual([]);
  });

  it("a labeler's 150 samples: two chunks, each annotation deleted once", async () => {
    const stores = await seeded(150);
    for (let n = 1; n <= 150; n++) {
      const sample = await stores.samples.getSample(P, `i${n}`);
      await annotate(stores, { projectId: P, sampleId: `i${n}`, version: sample!.version, labelerId: 'ann', requestId: rid(), confidences: [1, 0], ambiguous: false });
    }
    const { runs, job } = await inSlices(stores, await startLabelerDeletion(stores, P, 'ann', 'owner'));
    expect(runs).toBe(1 + 2 + 1); // the last chunk pauses before the tally goes
    expect(job).toMatchObject({ progress: { done: 150, total: 150 }, deleted: { annotations: 150, samplesReverted: 150 } });
    expect((await stores.samples.getSample(P, 'i150'))?.labeledBy).toEqual([]);
  });

  it('a project: a page per run until nothing of it is left', async () => {
    const stores = await seeded(30);
    const { runs, job } = await inSlices(stores, await startProjectDeletion(stores, P, 'Orchard', 'owner'));
    expect(runs).toBeGreaterThanOrEqual(3); // samples, images, objects: a page each
    expect(job.deleted).toMatchObject({ samples: 30, images: 30, objects: 30 });
    expect((await stores.blobs.list('')).items.filter((o) => o.key.includes(P))).toEqual([]);
  });
});
