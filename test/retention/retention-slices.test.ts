// The retention sweep over 5,000 images past retention, on the in-memory stores, as the cloud runs it: the sweep only
// writes the deletion job and hands it to the queue (nothing deleted by the invocation that swept, so it never runs
// long; a queue that does not take it leaves the job failed, sent by the next sweep), and the worker runs it in slices (functions/deletion/worker.ts), here each with no time left so that each
// makes one step: never more than 100 images. A slice killed mid-way is delivered again and goes on from the job's
// record; a message lost altogether is noticed by a later sweep once the job has not moved for STALLED_MS, which
// hands it over again. Sweeps meanwhile queue nothing twice. In the end every image is gone, each counted once.
// Locally (no queue) the sweep runs the job itself; one killed mid-way is finished by the next sweep.

import { describe, expect, it } from 'vitest';
import { createMemoryStores, type MemoryStores } from '../../functions/adapters/memory/index.js';
import { crashingAfter } from '../support/crashing-stores.js';
import { runDeletionSlice } from '../../functions/deletion/worker.js';
import type { DeletionMessage } from '../../functions/deletion/runners.js';
import { readAudit } from '../../functions/domain/audit-log.js';
import { deletionStatus, unfinishedDeletions, type DeletionRunner } from '../../functions/domain/deletion.js';
import { createProject } from '../../functions/domain/projects.js';
import { DAY_MS, RETENTION_ACTOR, STALLED_MS, sweepRetention } from '../../functions/domain/retention.js';
import { ManualClock, sampleFixture } from '../support/fixtures.js';

const P = 'archive';
const IMAGES = 5000;

async function seeded(IMAGES: number): Promise<{ stores: MemoryStores; clock: ManualClock }> {
  const clock = new ManualClock();
  const stores = createMemoryStores(clock);
  await createProject(stores, { id: P, classes: ['cat', 'dog'], auditRate: 0, retention: { originalsDaysAfterExport: 7 } }, 'owner');
  const at = new Date(clock.now()).toISOString();
  for (let n = 1; n <= IMAGES; n++) {
    await stores.samples.putImage({ projectId: P, imageId: `i${n}`, key: `uploads/${P}/${n}.jpg`, etag: 'e', bytes: 1, status: 'ready', order: `o${n}`, createdAt: at, updatedAt: at });
    await stores.blobs.put(`uploads/${P}/${n}.jpg`, new Uint8Array([1]), 'image/jpeg');
    await stores.blobs.put(`derived/${P}/i${n}/thumb.webp`, new Uint8Array([2]), 'image/webp');
  }
  await stores.samples.putSamplesIfAbsent(Array.from({ length: IMAGES }, (_, i) => sampleFixture(P, i + 1, { sampleId: `i${i + 1}`, imageId: `i${i + 1}` })));
  // An export of every label, finished just after the uploads.
  clock.advance(60_000);
  const done = new Date(clock.now()).toISOString();
  const status = { exportId: 'e1', projectId: P, request: { format: 'jsonl', include: 'labeled', images: false }, state: 'done', createdAt: done, startedAt: done, updatedAt: done, finishedAt: done };
  await stores.blobs.put(`exports/${P}/e1/status.json`, new TextEncoder().encode(JSON.stringify(status)), 'application/json');
  await stores.blobs.put(`exports/${P}/e1/labels.jsonl`, new TextEncoder().encode('{}'), 'application/x-ndjson');
  return { stores, clock };
}

describe('retention over 5,000 images: a queued deletion job, run in slices', () => {
  it('the sweep queues one job; slices of at most 100 images finish it through a refused send, a killed slice and a lost message', async () => {
    const { stores, clock } = await seeded(IMAGES);
    clock.advance(8 * DAY_MS);
    /** The export queue: messages in order, as the worker's event source delivers them. */
    const queue: DeletionMessage[] = [];
    const runner: DeletionRunner = { start: async (job) => void queue.push({ kind: 'deletion', projectId: job.projectId, jobId: job.jobId }) };
    const images = async () => {
      let n = 0;
      let cursor: string | undefined;
      do {
        const page = await stores.samples.listImages(P, { cursor, limit: 1000 });
        n += page.items.length;
        cursor = page.cursor;
      } while (cursor);
      return n;
    };

    // The queue unreachable at first: the sweep fails (logged), its job is marked failed, nothing is deleted.
    const logged: string[] = [];
    const unreachable: DeletionRunner = { start: async () => Promise.reject(new Error('export queue unreachable')) };
    expect(await sweepRetention(stores, { runner: unreachable, log: (m) => logged.push(m) })).toEqual([]);
    expect(logged).toEqual([`retention: sweep of project ${P} failed`]);
    const [failed] = await unfinishedDeletions(stores, P);
    expect(failed).toMatchObject({ status: 'failed', by: RETENTION_ACTOR, error: expect.stringContaining('export queue unreachable') });
    const jobId = failed.jobId;
    expect(await images()).toBe(IMAGES);

    // The next sweep (the next export) hands that job over again: no second job.
    const [swept] = await sweepRetention(stores, { runner });
    expect(swept).toMatchObject({ projectId: P, originalsQueued: 0, originalsDeleted: 0, jobIds: [], resumedJobIds: [jobId] });
    // The sweep deleted nothing itself: the job waits on the queue.
    expect(await images()).toBe(IMAGES);
    expect(queue).toEqual([{ kind: 'deletion', projectId: P, jobId }]);
    // Audited once, when the job was written.
    const audit = (await readAudit(stores.blobs, P)).items;
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: RETENTION_ACTOR, action: 'retention.sweep', target: { originals: IMAGES, queued: IMAGES, jobId } });

    // Another sweep while the job is under way: its images are the job's, nothing queued twice.
    expect(await sweepRetention(stores, { runner })).toMatchObject([{ originalsQueued: 0, jobIds: [], resumedJobIds: [] }]);
    expect(queue).toHaveLength(1);

    const deps = { stores, requeue: runner, settleMs: 0 };
    const noTimeLeft = () => 0;
    let slices = 0;
    const slice = async (on: MemoryStores = stores) => {
      const message = queue.shift()!;
      const before = await images();
      await runDeletionSlice({ ...deps, stores: on }, message, noTimeLeft);
      slices++;
      // One step per slice: never more than a chunk of 100 images.
      expect(before - (await images())).toBeLessThanOrEqual(100);
    };

    // Resolve and a few chunks hidden.
    for (let i = 0; i < 6; i++) await slice();
    const partway = await images();
    expect(partway).toBeLessThan(IMAGES);
    expect(partway).toBeGreaterThan(IMAGES - 600);

    // A slice killed mid-step: its message comes back (SQS, after the visibility timeout) and the job goes on.
    const message = queue[0];
    await expect(runDeletionSlice({ ...deps, stores: crashingAfter(stores) }, message, noTimeLeft)).rejects.toThrow('process killed');
    expect(queue).toEqual([message]);
    for (let i = 0; i < 20; i++) await slice();

    // The message lost altogether (a slice that could not put it back): the job stays unfinished with nothing to run it.
    queue.length = 0;
    expect((await unfinishedDeletions(stores, P)).map((j) => j.jobId)).toEqual([jobId]);
    const stuck = await images();
    expect(stuck).toBeGreaterThan(0);
    // A sweep soon after leaves it (it may just be waiting on the queue); one after STALLED_MS hands it over again.
    clock.advance(STALLED_MS / 2);
    expect(await sweepRetention(stores, { runner })).toMatchObject([{ originalsQueued: 0, jobIds: [], resumedJobIds: [] }]);
    expect(queue).toEqual([]);
    clock.advance(STALLED_MS);
    expect(await sweepRetention(stores, { runner })).toMatchObject([{ originalsQueued: 0, jobIds: [], resumedJobIds: [jobId] }]);
    expect(queue).toEqual([{ kind: 'deletion', projectId: P, jobId }]);
    expect(await images()).toBe(stuck);

    while (queue.length > 0) {
      await slice();
      expect(slices, 'a job that never finishes').toBeLessThan(200);
    }
    // 1 resolve + 50 chunks hidden + 50 swept + the last checks, give or take the step the killed slice repeated.
    expect(slices).toBeGreaterThanOrEqual(100);
    expect(await images()).toBe(0);
    expect((await stores.samples.listSamples(P, { limit: 10 })).items).toEqual([]);
    expect((await stores.blobs.list(`uploads/${P}/`, { limit: 10 })).items).toEqual([]);
    expect((await stores.blobs.list(`derived/${P}/`, { limit: 10 })).items).toEqual([]);
    // Each image counted once, whatever was repeated.
    expect(await deletionStatus(stores, P, jobId)).toMatchObject({ status: 'done', progress: { done: IMAGES, total: IMAGES }, deleted: { images: IMAGES, samples: IMAGES } });
    expect(await unfinishedDeletions(stores, P)).toEqual([]);
    // The export that held them stays (exportsDays is not set).
    expect((await stores.blobs.list(`exports/${P}/`)).items).toHaveLength(2);
  }, 60_000);

  it('locally (no runner) the sweep runs the job here; one killed mid-way is finished by the next sweep, each image once', async () => {
    const { stores, clock } = await seeded(1000);
    clock.advance(8 * DAY_MS);
    const logged: string[] = [];
    // Killed after 4 chunks of images went (2 deletes a chunk): the sweep logs it, the job's record says how far it got.
    expect(await sweepRetention(crashingAfter(stores, 8), { log: (m) => logged.push(m) })).toEqual([]);
    expect(logged).toEqual([`retention: sweep of project ${P} failed`]);
    const [job] = await unfinishedDeletions(stores, P);
    expect(job).toMatchObject({ status: 'failed', by: RETENTION_ACTOR, progress: { done: 400, total: 1000 } });
    expect((await stores.samples.listImages(P, { limit: 1000 })).items).toHaveLength(600);

    const [swept] = await sweepRetention(stores);
    expect(swept).toMatchObject({ originalsDeleted: 1000, originalsQueued: 0, jobIds: [], resumedJobIds: [job.jobId] });
    expect((await stores.samples.listImages(P, { limit: 10 })).items).toEqual([]);
    expect((await stores.blobs.list(`uploads/${P}/`, { limit: 10 })).items).toEqual([]);
    expect(await deletionStatus(stores, P, job.jobId)).toMatchObject({ status: 'done', deleted: { images: 1000, samples: 1000 } });
    expect(await unfinishedDeletions(stores, P)).toEqual([]);
  });
});
