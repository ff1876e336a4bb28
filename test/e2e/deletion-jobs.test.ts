// Deletion jobs on the in-memory fakes: crashes mid-way are finished by running again (or by resumeDeletions at
// start-up), filters pick the right images, a labeler's work falls back through the history, and bad requests are
// refused with a reason. The end-to-end run with real photos is deletion.test.ts.

import { describe, expect, it } from 'vitest';
import { createMemoryStores, type MemoryStores } from '../../functions/adapters/memory/index.js';
import { crashingAfter } from '../support/crashing-stores.js';
import { annotate } from '../../functions/domain/annotate.js';
import {
  deletionStatus,
  resumeDeletions,
  runDeletion,
  startImageDeletion,
  startLabelerDeletion,
  startProjectDeletion,
  unfinishedDeletions,
} from '../../functions/domain/deletion.js';
import type { ImageRecord, ImageStatus } from '../../functions/domain/model.js';
import { createProject } from '../../functions/domain/projects.js';
import { nextSamples } from '../../functions/domain/serving/next-samples.js';
import { imageIdFor } from '../../functions/domain/ingest.js';
import { createIngestHandler } from '../../functions/ingest/handler.js';
import { ManualClock, rid, sampleFixture } from '../support/fixtures.js';
import { sharedAnalyzer } from '../support/stack.js';

const P = 'flowers';

async function seeded(images: { n: number; status?: ImageStatus; boxes?: number }[], overlap = 1): Promise<MemoryStores> {
  const stores = createMemoryStores(new ManualClock());
  await createProject(stores, { id: P, name: 'Flowers', classes: ['daisy', 'rose', 'tulip'], auditRate: 0, overlap }, 'owner');
  for (const { n, status = 'ready', boxes = 0 } of images) {
    const image: ImageRecord = {
      projectId: P, imageId: `i${n}`, key: `uploads/${P}/img${n}.jpg`, etag: 'e', bytes: 3, status, order: `o${n}`,
      createdAt: '2026-11-22T09:00:00.000Z', updatedAt: '2026-11-22T09:00:00.000Z',
    };
    await stores.samples.putImage(image);
    await stores.blobs.put(image.key, new Uint8Array([1, 2, 3]), 'image/jpeg');
    await stores.blobs.put(`derived/${P}/i${n}/thumb.webp`, new Uint8Array([4]), 'image/webp');
    if (status !== 'ready') continue;
    await stores.samples.putSamplesIfAbsent([
      sampleFixture(P, n, { sampleId: `i${n}`, imageId: `i${n}` }),
      ...Array.from({ length: boxes }, (_, b) => sampleFixture(P, n, { sampleId: `i${n}-b${b + 1}`, imageId: `i${n}`, kind: 'box' })),
    ]);
  }
  return stores;
}

async function label(stores: MemoryStores, sampleId: string, labelerId: string, cls: number) {
  const sample = await stores.samples.getSample(P, sampleId);
  const confidences = [0, 0, 0];
  confidences[cls] = 1;
  return annotate(stores, { projectId: P, sampleId, version: sample!.version, labelerId, requestId: rid(), confidences, ambiguous: false });
}

describe('deletion jobs', () => {
  it('an image deletion that crashed is finished by running it again, and reports its progress', async () => {
    const stores = await seeded([{ n: 1, boxes: 3 }, { n: 2, boxes: 3 }, { n: 3 }]);
    await label(stores, 'i1-b2', 'ann', 0);
    const job = await startImageDeletion(stores, P, { imageIds: ['i1', 'i2'] }, 'owner');
    // Killed after the records went, before the originals did.
    await expect(runDeletion(crashingAfter(stores, 1), P, job.jobId)).rejects.toThrow('process killed');
    expect(await stores.samples.getImage(P, 'i1')).toBeUndefined();
    expect(await stores.blobs.head(`uploads/${P}/img1.jpg`)).toBeDefined();
    const failed = await deletionStatus(stores, P, job.jobId);
    expect(failed).toMatchObject({ status: 'failed', phase: 'hide', error: 'process killed', progress: { total: 2 } });
    expect((await unfinishedDeletions(stores)).map((j) => j.jobId)).toEqual([job.jobId]);

    // The same request again (the CLI command re-run) continues that job, though its images are hidden already.
    expect((await startImageDeletion(stores, P, { imageIds: ['i1', 'i2'] }, 'owner')).jobId).toBe(job.jobId);
    const done = await runDeletion(stores, P, job.jobId);
    expect(done).toMatchObject({ status: 'done', phase: 'done', progress: { done: 2, total: 2 } });
    expect((await stores.samples.listSamples(P)).items.map((s) => s.sampleId)).toEqual(['i3']);
    expect((await stores.samples.listImages(P)).items.map((i) => i.imageId)).toEqual(['i3']);
    expect(await stores.annotations.listForSample(P, 'i1-b2')).toEqual([]);
    expect((await stores.blobs.list(`uploads/${P}/`)).items.map((o) => o.key)).toEqual([`uploads/${P}/img3.jpg`]);
    expect((await stores.blobs.list(`derived/${P}/`)).items.map((o) => o.key)).toEqual([`derived/${P}/i3/thumb.webp`]);
    expect(await unfinishedDeletions(stores)).toEqual([]);
    // Running a finished job again changes nothing.
    expect(await runDeletion(stores, P, job.jobId)).toMatchObject({ status: 'done' });
  });

  it('a leased sample is deleted with its image; the labeler\'s save then gets a 404 and leaves no record', async () => {
    const stores = await seeded([{ n: 1, boxes: 1 }, { n: 2 }]);
    const served = await nextSamples(stores, { projectId: P, labelerId: 'ann', count: 3, leaseMs: 600_000 });
    const leased = served.samples.find((s) => s.imageId === 'i1')!;
    expect(leased.lease?.labelerId).toBe('ann');
    const job = await startImageDeletion(stores, P, { imageIds: ['i1'] }, 'owner');
    await runDeletion(stores, P, job.jobId);
    await expect(
      annotate(stores, { projectId: P, sampleId: leased.sampleId, version: leased.version, labelerId: 'ann', requestId: rid(), confidences: [1, 0, 0], ambiguous: false }),
    ).rejects.toMatchObject({ code: 'not_found' });
    expect(await stores.annotations.listForSample(P, leased.sampleId)).toEqual([]);
    expect((await nextSamples(stores, { projectId: P, labelerId: 'ann', count: 3, leaseMs: 600_000 })).samples.map((s) => s.imageId)).toEqual(['i2']);
  });

  it('an ObjectRemoved notification from the cloud (SQS, URL-encoded key) deletes the image with everything derived', async () => {
    const stores = await seeded([{ n: 1, boxes: 1 }, { n: 2 }]);
    // A name that S3 notifications encode: a space and a plus.
    const key = `uploads/${P}/my photo+1.jpg`;
    const imageId = imageIdFor(key);
    await stores.samples.putImage({ ...(await stores.samples.getImage(P, 'i2'))!, imageId, key });
    await stores.samples.putSamplesIfAbsent([sampleFixture(P, 9, { sampleId: imageId, imageId })]);
    await label(stores, imageId, 'ann', 0);
    const handler = createIngestHandler({ stores, analyzer: await sharedAnalyzer() }, { log: () => undefined });
    const notification = { Records: [{ eventName: 'ObjectRemoved:Delete', eventTime: '2026-11-22T10:00:00.000Z', s3: { object: { key: encodeURIComponent(key).replace(/%20/g, '+') } } }] };
    const out = await handler.handleSqs({ Records: [{ messageId: 'm1', body: JSON.stringify(notification) }] } as never);
    expect(out.batchItemFailures).toEqual([]);
    expect(await stores.samples.getImage(P, imageId)).toBeUndefined();
    expect(await stores.samples.getSample(P, imageId)).toBeUndefined();
    expect(await stores.annotations.listForSample(P, imageId)).toEqual([]);
    expect((await stores.samples.listImages(P)).items.map((i) => i.imageId)).toEqual(['i1', 'i2']);
  });

  it('a project deletion that crashed is finished by resumeDeletions (start-up), leaving nothing', async () => {
    const stores = await seeded([{ n: 1, boxes: 2 }, { n: 2 }, { n: 3, status: 'failed' }]);
    await label(stores, 'i2', 'ann', 1);
    const job = await startProjectDeletion(stores, P, 'Flowers', 'owner');
    // The project is gone at once, before the job runs.
    expect(await stores.projects.get(P)).toBeUndefined();
    await expect(runDeletion(crashingAfter(stores, 1), P, job.jobId)).rejects.toThrow('process killed');
    // Asking again for the deleted project hands back the unfinished job instead of a 404.
    expect((await startProjectDeletion(stores, P, undefined, 'owner')).jobId).toBe(job.jobId);

    const ended = await resumeDeletions(stores);
    expect(ended.map((j) => [j.jobId, j.status])).toEqual([[job.jobId, 'done']]);
    expect((await stores.blobs.list('')).items).toEqual([]);
    expect(stores.samples.projectIds()).toEqual([]);
    expect(stores.annotations.all()).toEqual([]);
    expect(stores.labelers.projectIds()).toEqual([]);
    expect(stores.projects.projectIds()).toEqual([]);
    // This process still answers how it ended; a project that never existed is a 404.
    expect(await deletionStatus(stores, P, job.jobId)).toMatchObject({ status: 'done', deleted: { images: 3, annotations: 1, labelers: 1 } });
    await expect(startProjectDeletion(stores, P, 'Flowers', 'owner')).rejects.toThrow('project "flowers" not found');
  });

  it('deletes by filter: all failed images, or all images labeled as one class', async () => {
    const stores = await seeded([{ n: 1 }, { n: 2 }, { n: 3, status: 'failed' }, { n: 4, status: 'failed' }, { n: 5, boxes: 1 }]);
    await label(stores, 'i2', 'ann', 1);
    await label(stores, 'i5-b1', 'ann', 1);
    await label(stores, 'i1', 'ann', 0);
    const failed = await startImageDeletion(stores, P, { filter: { status: 'failed' } }, 'owner');
    expect(await runDeletion(stores, P, failed.jobId)).toMatchObject({ status: 'done', deleted: { images: 2 } });
    const roses = await startImageDeletion(stores, P, { filter: { labeledClass: 'rose' } }, 'owner');
    await runDeletion(stores, P, roses.jobId);
    expect((await stores.samples.listImages(P)).items.map((i) => i.imageId)).toEqual(['i1']);
  });

  it('refuses bad requests with a reason', async () => {
    const stores = await seeded([{ n: 1 }]);
    await expect(startImageDeletion(stores, P, { imageIds: ['i1', 'nope', 'gone'] }, 'owner')).rejects.toThrow('images "nope", "gone" not found in project "flowers"');
    await expect(startImageDeletion(stores, P, { filter: { labeledClass: 'lily' } }, 'owner')).rejects.toThrow('"lily" is not a class of this project (daisy, rose, tulip)');
    await expect(startImageDeletion(stores, P, { imageIds: ['i1'], filter: { status: 'failed' } }, 'owner')).rejects.toThrow('either imageIds or filter');
    await expect(startImageDeletion(stores, P, { filter: {} }, 'owner')).rejects.toThrow('give status or labeledClass');
    await expect(startProjectDeletion(stores, P, 'flowers', 'owner')).rejects.toThrow(`type the project's name, "Flowers"`);
    await expect(startImageDeletion(stores, 'other', { imageIds: ['i1'] }, 'owner')).rejects.toThrow('project "other" not found');
    expect(await stores.projects.get(P)).toBeDefined();
    expect(await unfinishedDeletions(stores)).toEqual([]);
  });

  it("a labeler's work goes: each sample falls back to the label before theirs, or to unlabeled and the queue", async () => {
    const stores = await seeded([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    await label(stores, 'i1', 'ann', 0);
    await label(stores, 'i1', 'bob', 2); // bob relabels ann's sample
    await label(stores, 'i2', 'bob', 1); // only bob
    await label(stores, 'i3', 'ann', 1);
    await label(stores, 'i4', 'bob', 1);
    await label(stores, 'i4', 'ann', 0); // ann relabels after bob (bob stays among its labelers until removed)
    const job = await startLabelerDeletion(stores, P, 'bob', 'owner');
    expect(await runDeletion(stores, P, job.jobId)).toMatchObject({ status: 'done', deleted: { annotations: 3, samplesReverted: 3 } });

    const [i1, i2, i3, i4] = await stores.samples.getSamples(P, ['i1', 'i2', 'i3', 'i4']);
    expect(i1).toMatchObject({ labeledBy: ['ann'], label: { labelerId: 'ann', confidences: [1, 0, 0] } });
    expect(i1.queueKey).toBeUndefined();
    expect(i2.label).toBeUndefined();
    expect(i2.labeledBy).toEqual([]);
    expect(i2.queueKey).toBe(i2.order); // back in the queue
    expect(i3).toMatchObject({ labeledBy: ['ann'], label: { labelerId: 'ann', confidences: [0, 1, 0] } });
    expect(i4).toMatchObject({ labeledBy: ['ann'], label: { labelerId: 'ann', confidences: [1, 0, 0] } });
    const all = (await stores.annotations.listForProject(P)).items;
    expect(all.filter((a) => a.labelerId === 'bob')).toEqual([]);
    expect(await stores.labelers.get(P, 'bob')).toBeUndefined();
    expect((await stores.labelers.get(P, 'ann'))?.total).toBe(3);
    // A new label on a reverted sample lands on its current version.
    expect((await label(stores, 'i2', 'cy', 2)).sample).toMatchObject({ labeledBy: ['cy'] });
  });
});
