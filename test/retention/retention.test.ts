// Retention per project on the in-memory stores with a fake clock and the real export job: exports older than
// exportsDays are deleted (file and status record), newer ones stay; originalsDaysAfterExport days after an export
// finished, the images it held lose their original with everything derived (display copy, thumbnail, samples incl.
// box samples, annotations) while images uploaded after it stay and the export keeps their labels; a project without
// settings keeps everything; bad settings are refused naming the field.

import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { createMemoryStores, type MemoryStores } from '../../functions/adapters/memory/index.js';
import { zipArchive } from '../../functions/adapters/export/zip.js';
import { annotate } from '../../functions/domain/annotate.js';
import { readAudit } from '../../functions/domain/audit-log.js';
import { exportKeys, exportStatus, runExport, startExport, type ExportDeps } from '../../functions/domain/interchange/export/job.js';
import type { ImageRecord, Project } from '../../functions/domain/model.js';
import { createProject, editProject } from '../../functions/domain/projects.js';
import { DAY_MS, RETENTION_ACTOR, scheduleRetention, sweepRetention } from '../../functions/domain/retention.js';
import { ManualClock, rid, sampleFixture } from '../support/fixtures.js';
import { memoryExportObjects, plainImageFiles } from '../interchange/export-support.js';

async function setup(projects: { id: string; retention?: Project['retention'] }[]) {
  const clock = new ManualClock();
  const stores = createMemoryStores(clock);
  for (const p of projects) {
    await createProject(stores, { id: p.id, classes: ['daisy', 'rose'], auditRate: 0, ...(p.retention ? { retention: p.retention } : {}) }, 'owner');
  }
  const jobs: Promise<unknown>[] = [];
  const deps: ExportDeps = {
    stores,
    objects: memoryExportObjects(stores.blobs),
    createArchive: (sink) => zipArchive(sink),
    images: plainImageFiles(stores),
    defaultEmbeddingModel: 'm',
    runner: { dispatch: async (job) => void jobs.push(runExport(deps, job)) },
  };
  const exportNow = async (projectId: string, labelerId?: string) => {
    const started = await startExport(deps, projectId, { format: 'jsonl', include: 'labeled', images: false, ...(labelerId ? { labelerId } : {}) }, 'owner');
    await Promise.all(jobs.splice(0));
    const done = await exportStatus(deps, projectId, started.exportId);
    expect(done.state).toBe('done');
    return done;
  };
  return { clock, stores, deps, exportNow };
}

/** An uploaded image with its original, thumbnail, display copy, its own sample and `boxes` box samples, labeled. */
async function addImage(stores: MemoryStores, projectId: string, n: number, boxes = 0) {
  const at = new Date(stores.clock.now()).toISOString();
  const image: ImageRecord = { projectId, imageId: `i${n}`, key: `uploads/${projectId}/img${n}.jpg`, etag: 'e', bytes: 3, width: 40, height: 30, status: 'ready', order: `o${n}`, createdAt: at, updatedAt: at };
  await stores.samples.putImage(image);
  await stores.blobs.put(image.key, new Uint8Array([1, 2, 3]), 'image/jpeg');
  await stores.blobs.put(`derived/${projectId}/i${n}/thumb.webp`, new Uint8Array([4]), 'image/webp');
  await stores.blobs.put(`derived/${projectId}/i${n}/display.webp`, new Uint8Array([5]), 'image/webp');
  await stores.samples.putSamplesIfAbsent([
    sampleFixture(projectId, n, { sampleId: `i${n}`, imageId: `i${n}` }),
    ...Array.from({ length: boxes }, (_, b) => sampleFixture(projectId, n, { sampleId: `i${n}-b${b + 1}`, imageId: `i${n}`, kind: 'box' })),
  ]);
  for (const sampleId of [`i${n}`, ...Array.from({ length: boxes }, (_, b) => `i${n}-b${b + 1}`)]) {
    const sample = await stores.samples.getSample(projectId, sampleId);
    await annotate(stores, { projectId, sampleId, version: sample!.version, labelerId: 'ann', requestId: rid(), confidences: [0, 1], ambiguous: false });
  }
}

async function keys(stores: MemoryStores, prefix: string): Promise<string[]> {
  return (await stores.blobs.list(prefix, { limit: 10_000 })).items.map((o) => o.key).sort();
}

describe('retention', () => {
  it('deletes exports older than exportsDays (file and record) and keeps the newer ones', async () => {
    const { clock, stores, deps, exportNow } = await setup([{ id: 'p', retention: { exportsDays: 7 } }]);
    await addImage(stores, 'p', 1);
    const old = await exportNow('p');
    clock.advance(5 * DAY_MS);
    const recent = await exportNow('p');
    clock.advance(1.5 * DAY_MS); // old: 6.5 days
    expect(await sweepRetention(stores)).toMatchObject([{ projectId: 'p', exportsDeleted: 0, originalsDeleted: 0 }]);
    clock.advance(1 * DAY_MS); // old: 7.5 days, recent: 2.5 days
    expect(await sweepRetention(stores)).toMatchObject([{ projectId: 'p', exportsDeleted: 1, exportObjectsDeleted: 2, originalsDeleted: 0 }]);

    expect(await keys(stores, `exports/p/${old.exportId}/`)).toEqual([]);
    await expect(exportStatus(deps, 'p', old.exportId)).rejects.toThrow(/not found/);
    expect(await keys(stores, `exports/p/${recent.exportId}/`)).toEqual([exportKeys('p', recent.exportId, recent.fileName).file, exportKeys('p', recent.exportId, recent.fileName).status].sort());
    expect((await exportStatus(deps, 'p', recent.exportId)).state).toBe('done');
    // exportsDays alone never touches originals.
    expect(await keys(stores, 'uploads/p/')).toEqual(['uploads/p/img1.jpg']);
    expect(await stores.samples.getImage('p', 'i1')).toBeDefined();
    // The sweep is in the project's audit log.
    const log = (await readAudit(stores.blobs, 'p')).items;
    expect(log[0]).toMatchObject({ actor: RETENTION_ACTOR, action: 'retention.sweep', target: { exports: 1, originals: 0, exportsDays: 7 } });
  });

  it('deletes originals with everything derived originalsDaysAfterExport after an export that held them; later uploads and the export stay', async () => {
    const { clock, stores, exportNow } = await setup([{ id: 'p', retention: { originalsDaysAfterExport: 30 } }, { id: 'keep' }]);
    for (const id of ['p', 'keep']) {
      await addImage(stores, id, 1, 2);
      await addImage(stores, id, 2);
    }
    const exported = await exportNow('p');
    await exportNow('keep');
    clock.advance(DAY_MS);
    await addImage(stores, 'p', 3); // uploaded after the export: not in it
    clock.advance(28 * DAY_MS); // 29 days after the export finished: nothing yet
    expect(await sweepRetention(stores)).toMatchObject([{ projectId: 'p', originalsDeleted: 0 }]);
    expect(await keys(stores, 'uploads/p/')).toHaveLength(3);

    clock.advance(1.5 * DAY_MS);
    const [result] = await sweepRetention(stores);
    expect(result).toMatchObject({ projectId: 'p', originalsDeleted: 2, exportsDeleted: 0 });
    expect(await keys(stores, 'uploads/p/')).toEqual(['uploads/p/img3.jpg']);
    expect(await keys(stores, 'derived/p/')).toEqual(['derived/p/i3/display.webp', 'derived/p/i3/thumb.webp']);
    expect((await stores.samples.listImages('p')).items.map((i) => i.imageId)).toEqual(['i3']);
    expect((await stores.samples.listSamples('p')).items.map((s) => s.sampleId)).toEqual(['i3']);
    expect((await stores.annotations.listForProject('p')).items.map((a) => a.sampleId)).toEqual(['i3']);
    // The labels of the deleted images live on in the export made before.
    const file = await stores.blobs.get(exportKeys('p', exported.exportId, exported.fileName).file);
    const lines = Buffer.from(file!.body).toString('utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.join('\n')).toContain('img1.jpg');
    expect(lines.join('\n')).toContain('img2.jpg');
    const log = (await readAudit(stores.blobs, 'p')).items;
    expect(log[0]).toMatchObject({ actor: RETENTION_ACTOR, action: 'retention.sweep', target: { originals: 2, exports: 0, jobId: result.jobIds[0] } });

    // Running again finds nothing more (the deletion is done, img3 was never exported).
    clock.advance(400 * DAY_MS);
    expect(await sweepRetention(stores)).toMatchObject([{ projectId: 'p', originalsDeleted: 0 }]);
    expect(await keys(stores, 'uploads/p/')).toEqual(['uploads/p/img3.jpg']);

    // A project without settings keeps everything, 430 days on.
    expect(await keys(stores, 'uploads/keep/')).toEqual(['uploads/keep/img1.jpg', 'uploads/keep/img2.jpg']);
    expect(await keys(stores, 'derived/keep/')).toHaveLength(4);
    expect((await stores.samples.listSamples('keep')).items).toHaveLength(4);
    expect((await keys(stores, 'exports/keep/')).length).toBe(2);
  });

  it('keeps an image relabeled after the export: its new label is in no export yet', async () => {
    const { clock, stores, exportNow } = await setup([{ id: 'p', retention: { originalsDaysAfterExport: 1 } }]);
    await addImage(stores, 'p', 1);
    await addImage(stores, 'p', 2);
    await exportNow('p');
    clock.advance(DAY_MS / 2);
    const sample = await stores.samples.getSample('p', 'i2');
    await annotate(stores, { projectId: 'p', sampleId: 'i2', version: sample!.version, labelerId: 'bob', requestId: rid(), confidences: [1, 0], ambiguous: false });
    clock.advance(2 * DAY_MS);
    expect(await sweepRetention(stores)).toMatchObject([{ projectId: 'p', originalsDeleted: 1 }]);
    expect(await keys(stores, 'uploads/p/')).toEqual(['uploads/p/img2.jpg']);
    expect((await stores.samples.getSample('p', 'i2'))?.label).toMatchObject({ labelerId: 'bob', confidences: [1, 0] });
    // A later export holds the new label: the image may go a day after it.
    await exportNow('p');
    clock.advance(2 * DAY_MS);
    expect(await sweepRetention(stores)).toMatchObject([{ projectId: 'p', originalsDeleted: 1 }]);
    expect(await keys(stores, 'uploads/p/')).toEqual([]);
  });

  it('an export of one labeler\'s labels does not let originals go', async () => {
    const { clock, stores, exportNow } = await setup([{ id: 'p', retention: { originalsDaysAfterExport: 1 } }]);
    await addImage(stores, 'p', 1);
    await exportNow('p', 'ann');
    clock.advance(10 * DAY_MS);
    expect(await sweepRetention(stores)).toMatchObject([{ projectId: 'p', originalsDeleted: 0 }]);
    expect(await keys(stores, 'uploads/p/')).toEqual(['uploads/p/img1.jpg']);
  });

  it('refuses settings that are not whole days, or exports expiring before the originals they release', async () => {
    const { stores } = await setup([{ id: 'p' }]);
    await expect(createProject(stores, { id: 'q', classes: ['a'], retention: { exportsDays: 0 } }, 'o')).rejects.toMatchObject({ code: 'bad_request', details: { field: 'retention.exportsDays' } });
    await expect(editProject(stores, 'p', { version: 1, retention: { originalsDaysAfterExport: 2.5 } })).rejects.toMatchObject({ details: { field: 'retention.originalsDaysAfterExport' } });
    await expect(editProject(stores, 'p', { version: 1, retention: { exportsDays: 7, originalsDaysAfterExport: 30 } })).rejects.toMatchObject({ details: { field: 'retention.exportsDays' } });
    const edited = await editProject(stores, 'p', { version: 1, retention: { exportsDays: 30, originalsDaysAfterExport: 30 } });
    expect(edited.retention).toEqual({ exportsDays: 30, originalsDaysAfterExport: 30 });
  });

  it('the schedule (local stack) sweeps at once and on every tick, and nothing after it is stopped', async () => {
    const { clock, stores, exportNow } = await setup([{ id: 'p', retention: { exportsDays: 1 } }]);
    await addImage(stores, 'p', 1);
    await exportNow('p');
    clock.advance(2 * DAY_MS);
    const logged: string[] = [];
    const schedule = scheduleRetention(stores, { intervalMs: 20, log: (m) => logged.push(m) });
    await expect.poll(() => keys(stores, 'exports/p/')).toEqual([]);
    expect(logged).toContain('retention: deleted what the project keeps no longer');
    await exportNow('p');
    clock.advance(2 * DAY_MS);
    await expect.poll(() => keys(stores, 'exports/p/')).toEqual([]); // a later tick
    await schedule.stop();
    await exportNow('p');
    clock.advance(2 * DAY_MS);
    await new Promise((r) => setTimeout(r, 100));
    expect(await keys(stores, 'exports/p/')).toHaveLength(2); // stopped: kept
  });
});
