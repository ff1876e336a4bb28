// The export API: owners start a job (202), poll it, and download through a short-lived link; bad requests get a
// 400 naming the field; labelers get 403; a job that stops moving is reported failed. In-memory stores, the real
// job code, the real ZIP writer and the in-process runner.

import { unzipSync } from 'fflate';
import { beforeEach, describe, expect, it } from 'vitest';
import { inProcessExportRunner, type LocalExportRunner } from '../../functions/adapters/export/runners.js';
import { zipArchive } from '../../functions/adapters/export/zip.js';
import { createApp } from '../../functions/api/app.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import type { Authenticate } from '../../functions/api/types.js';
import { exportKeys, runExport, type ExportDeps } from '../../functions/domain/interchange/export/job.js';
import { exportFixture, memoryExportObjects, plainImageFiles, type ExportFixture } from './export-support.js';

/** x-user names the caller; x-group their group (admin unless said otherwise). */
const authenticate: Authenticate = async (req) => ({
  userId: req.headers.get('x-user') ?? 'olga',
  groups: [req.headers.get('x-group') ?? 'admin'],
});

describe('export API', () => {
  let f: ExportFixture;
  let deps: ExportDeps;
  let runner: LocalExportRunner;
  let app: ReturnType<typeof createApp>;
  let objects: ReturnType<typeof memoryExportObjects>;

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await app.request(path, {
      method,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, json: await res.json(), headers: res.headers };
  };

  beforeEach(async () => {
    f = await exportFixture('box-review', ['cell'], { members: ['lars'] });
    await f.add({ n: 1, file: 'one.jpg', width: 200, height: 100, label: { confidences: [0], boxes: [{ box: [10, 20, 110, 70], classIndex: 0 }] } });
    await f.stores.blobs.put('uploads/proj/one.jpg', new Uint8Array([1, 2, 3]), 'image/jpeg');
    objects = memoryExportObjects(f.stores.blobs);
    runner = inProcessExportRunner((job) => runExport(deps, job), () => undefined);
    deps = {
      stores: f.stores,
      objects,
      createArchive: (sink) => zipArchive(sink),
      images: plainImageFiles(f.stores),
      defaultEmbeddingModel: 'm',
      runner,
    };
    app = createApp({ stores: f.stores, featureVectors: shardFeatureVectors(f.stores.blobs, f.stores.clock), authenticate, exports: deps });
  });

  it('starts a job (202), reports it done with counts, and the link downloads the archive', async () => {
    const started = await call('POST', '/api/projects/proj/exports', { format: 'coco' });
    expect(started.status).toBe(202);
    expect(started.json).toMatchObject({ state: 'queued', request: { format: 'coco', include: 'labeled', images: true, excludeAmbiguous: false } });
    expect(started.json.exportId).toMatch(/^\d{8}-\d{6}-[0-9a-f]{6}$/);
    expect(started.headers.get('location')).toBe(`/api/projects/proj/exports/${started.json.exportId}`);
    await runner.idle();

    const done = await call('GET', started.json.statusUrl);
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({ state: 'done', counts: { images: 1, boxes: 1, files: 1 }, contentType: 'application/zip' });
    expect(done.json.fileName).toMatch(/^proj-coco-\d{8}-\d{6}\.zip$/);
    expect(Date.parse(done.json.expiresAt)).toBeGreaterThan(f.stores.clock.now());
    const res = await f.stores.blobs.fetchPresigned(done.json.downloadUrl);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(bytes.length).toBe(done.json.bytes);
    expect(Object.keys(unzipSync(bytes))).toEqual(['annotations/instances.json', 'images/one.jpg']);
    expect(objects.disposition.get(exportKeys('proj', done.json.exportId, done.json.fileName).file)).toBe(done.json.fileName);
  });

  it('gives CSV and JSON Lines without images as a plain file', async () => {
    const started = await call('POST', '/api/projects/proj/exports', { format: 'csv', images: false });
    await runner.idle();
    const done = await call('GET', started.json.statusUrl);
    expect(done.json).toMatchObject({ state: 'done', contentType: 'text/csv; charset=utf-8' });
    expect(done.json.fileName).toMatch(/\.csv$/);
    const text = await (await f.stores.blobs.fetchPresigned(done.json.downloadUrl)).text();
    expect(text.split('\n')[0]).toMatch(/^filename,bbox,annotation,feat_idx,/);
  });

  it('answers 400 naming the field for bad requests', async () => {
    const cases: [unknown, string][] = [
      [{ format: 'pdf' }, 'format'],
      [{}, 'format'],
      [{ format: 'coco', include: 'some' }, 'include'],
      [{ format: 'coco', labelerId: '' }, 'labelerId'],
      [{ format: 'coco', images: 'yes' }, 'images'],
      [{ format: 'folders', images: false }, 'images'],
    ];
    for (const [body, field] of cases) {
      const res = await call('POST', '/api/projects/proj/exports', body);
      expect([res.status, res.json.field], JSON.stringify(body)).toEqual([400, field]);
      expect(res.json.message).toContain(field);
    }
    const unknown = await call('POST', '/api/projects/proj/exports', { format: 'coco', password: 'x' });
    expect(unknown.status).toBe(400);
    expect((await call('POST', '/api/projects/proj/exports', '{not json')).status).toBe(400);
  });

  it('refuses YOLO and VOC for a classification project (400 naming the formats that carry image-level labels)', async () => {
    const flowers = await exportFixture('single-label', ['daisy', 'tulip']);
    await flowers.add({ n: 1, file: 'one.jpg', width: 200, height: 100, label: { confidences: [0, 1] } });
    const classification = createApp({ stores: flowers.stores, featureVectors: shardFeatureVectors(flowers.stores.blobs, flowers.stores.clock), authenticate, exports: { ...deps, stores: flowers.stores } });
    for (const format of ['yolo', 'voc']) {
      const res = await classification.request('/api/projects/proj/exports', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ format, images: false }),
      });
      expect(res.status).toBe(400);
      const body = await res.json();
      expect(body).toMatchObject({ code: 'bad_request', field: 'format', formats: ['coco', 'csv', 'jsonl', 'folders', 'embeddings'] });
      expect(body.message).toContain(`${format} carries boxes only`);
      expect(body.message).toContain('coco, csv, jsonl, folders, embeddings');
      expect(body.requestId).toBeTruthy();
    }
    // Nothing was started: the formats that carry the labels still export.
    const ok = await classification.request('/api/projects/proj/exports', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ format: 'csv', images: false }),
    });
    expect(ok.status).toBe(202);
  });

  it('is for owners only: a labeler of the project gets 403', async () => {
    const lars = { 'x-user': 'lars', 'x-group': 'labeler' };
    expect((await call('POST', '/api/projects/proj/exports', { format: 'coco' }, lars)).status).toBe(403);
    const started = await call('POST', '/api/projects/proj/exports', { format: 'coco' });
    expect((await call('GET', started.json.statusUrl, undefined, lars)).status).toBe(403);
  });

  it('answers 404 for unknown export ids and unknown projects, 400 for ids no export has', async () => {
    expect((await call('GET', '/api/projects/proj/exports/20250101-000000-abcdef')).status).toBe(404);
    // Percent-encoded paths have no place in the API (functions/api/access.ts): refused before any lookup.
    expect((await call('GET', '/api/projects/proj/exports/..%2F..%2Fsecret')).status).toBe(400);
    expect((await call('GET', '/api/projects/proj/exports/not-an-export-id')).status).toBe(404);
    expect((await call('POST', '/api/projects/nope/exports', { format: 'coco' })).status).toBe(404);
  });

  it('records why a job failed, and reports a job that stopped moving as failed', async () => {
    // The original is gone from the bucket: the export fails with a reason the owner can act on.
    await f.stores.blobs.delete('uploads/proj/one.jpg');
    deps.images = (await import('../../functions/adapters/export/images.js')).sharpImageFiles(f.stores.blobs);
    const started = await call('POST', '/api/projects/proj/exports', { format: 'yolo' });
    await runner.idle();
    const failed = await call('GET', started.json.statusUrl);
    expect(failed.json).toMatchObject({ state: 'failed' });
    expect(failed.json.reason).toMatch(/no longer in the bucket.*export without images/);

    // A job whose worker died: its status still says running, but has not moved for minutes.
    const { exportId, fileName } = started.json;
    const key = exportKeys('proj', exportId, fileName).status;
    const stale = { ...started.json, state: 'running', updatedAt: new Date(f.stores.clock.now()).toISOString() };
    await f.stores.blobs.put(key, Buffer.from(JSON.stringify(stale)), 'application/json');
    (f.stores.clock as unknown as { advance(ms: number): void }).advance(5 * 60_000);
    const dead = await call('GET', started.json.statusUrl);
    expect(dead.json).toMatchObject({ state: 'failed', reason: expect.stringMatching(/stopped making progress/) });
  });
});
