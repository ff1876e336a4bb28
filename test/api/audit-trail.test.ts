// The audit log as owners' actions write it, through the API on the in-memory stores: creating and editing a
// project, an upload grant, deleting an image, a labeler's work and the whole project each leave one entry naming
// who, when and the ids involved; a refused request leaves none; the log pages newest first; after the project is
// deleted its entries (and only they) remain, without file names or labels.

import { describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { localAuthenticate } from '../../functions/api/auth-local.js';
import { createApp } from '../../functions/api/app.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import { runDeletion } from '../../functions/domain/deletion.js';
import type { ImageRecord } from '../../functions/domain/model.js';

describe('audit trail', () => {
  it('records what owners did, in order, and outlives the project', async () => {
    const stores = createMemoryStores();
    const app = createApp({ stores, featureVectors: shardFeatureVectors(stores.blobs, stores.clock), authenticate: localAuthenticate });
    const call = async (method: string, path: string, body?: unknown, user = 'olga') => {
      const res = await app.request(path, {
        method,
        headers: { 'x-winnow-user': user, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, json: (await res.json()) as any };
    };
    expect((await call('POST', '/api/projects', { id: 'garden', name: 'Garden', classes: ['daisy', 'rose'] })).status).toBe(201);
    expect((await call('PATCH', '/api/projects/garden', { version: 1, name: 'Secret garden' })).status).toBe(200);
    expect((await call('PATCH', '/api/projects/garden', { version: 1, name: 'stale' })).status).toBe(409); // refused: no entry
    expect((await call('POST', '/api/projects/garden/uploads', { files: [{ name: 'a/rose 1.jpg', contentType: 'image/jpeg', bytes: 10 }, { name: 'b.jpg', contentType: 'image/jpeg', bytes: 10 }] })).status).toBe(200);
    for (const n of [1, 2]) {
      const image: ImageRecord = { projectId: 'garden', imageId: `i${n}`, key: `uploads/garden/rose-${n}.jpg`, etag: 'e', bytes: 3, status: 'ready', order: `o${n}`, createdAt: 'c', updatedAt: 'u' };
      await stores.samples.putImage(image);
      await stores.blobs.put(image.key, new Uint8Array([1]), 'image/jpeg');
      await stores.samples.putSamplesIfAbsent([{ projectId: 'garden', sampleId: `i${n}`, imageId: `i${n}`, kind: 'image', version: 0, labeledBy: [], order: `o${n}`, queueKey: `o${n}`, createdAt: 'c' }]);
    }
    expect((await call('POST', '/api/projects/garden/samples/i2/annotations', { version: 0, requestId: 'bob-label-1', classIndex: 1 }, 'bob')).status).toBe(201);
    const image = await call('DELETE', '/api/projects/garden/images/i1');
    expect(image.status).toBe(202);
    await runDeletion(stores, 'garden', image.json.jobId);
    const labeler = await call('POST', '/api/projects/garden/deletions', { labelerId: 'bob' });
    expect(labeler.status).toBe(202);
    await runDeletion(stores, 'garden', labeler.json.jobId);

    const log = (await call('GET', '/api/projects/garden/audit')).json.items as any[];
    expect(log.map((e) => e.action)).toEqual(['labels.delete', 'images.delete', 'images.upload', 'project.edit', 'project.create']);
    expect(log.every((e) => e.actor === 'olga' && e.projectId === 'garden' && typeof e.requestId === 'string')).toBe(true);
    expect(log[0].target).toMatchObject({ labelerId: 'bob', jobId: labeler.json.jobId });
    expect(log[1].target).toMatchObject({ imageId: 'i1', jobId: image.json.jobId, images: 1 });
    expect(log[2].target).toEqual({ files: 2 });
    expect(log[3].target).toEqual({ version: 2 });
    // Pages of two, newest first, to the end.
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = (await call('GET', `/api/projects/garden/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`)).json;
      paged.push(...page.items.map((e: any) => e.action));
      cursor = page.cursor;
    } while (cursor);
    expect(paged).toEqual(log.map((e) => e.action));

    const gone = await call('DELETE', '/api/projects/garden', { confirm: 'Secret garden' });
    expect(gone.status).toBe(202);
    await runDeletion(stores, 'garden', gone.json.jobId);
    const left = (await stores.blobs.list('')).items.map((o) => o.key);
    expect(left.length).toBe(6);
    expect(left.every((k) => k.startsWith('audit/garden/'))).toBe(true);
    // Still readable by owners once the project is gone.
    const after = (await call('GET', '/api/team/audit?project=garden')).json.items as any[];
    expect(after.map((e) => e.action)).toEqual(['project.delete', ...log.map((e) => e.action)]);
    expect((await call('GET', '/api/team/audit?project=../x')).status).toBe(400);
    for (const key of left) {
      const text = new TextDecoder().decode((await stores.blobs.get(key))!.body);
      expect(text).not.toMatch(/rose|\.jpg|daisy|Secret/);
    }
  });
});
