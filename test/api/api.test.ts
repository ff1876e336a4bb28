import { describe, expect, it } from 'vitest';
import { createApp } from '../../functions/api/app.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import { localAuthenticate } from '../../functions/api/auth-local.js';
import { projectWithSamples, rid } from '../support/fixtures.js';

async function setup(samples = 3) {
  const { stores, clock } = await projectWithSamples(samples);
  await stores.samples.putImageIfAbsent({
    projectId: 'flowers', imageId: 'i1', key: 'uploads/flowers/daisy/a, "quoted".jpg', etag: 'e', bytes: 10, status: 'ready',
    order: 'o', createdAt: 'c', updatedAt: 'u', width: 4, height: 3,
  });
  const app = createApp({ stores, featureVectors: shardFeatureVectors(stores.blobs, stores.clock), authenticate: localAuthenticate });
  const call = async (method: string, path: string, body?: unknown, user = 'ann') => {
    const res = await app.request(path, {
      method,
      headers: { 'x-winnow-user': user, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json, headers: res.headers };
  };
  return { stores, clock, call };
}

describe('API', () => {
  it('creates, lists and reads projects', async () => {
    const { call } = await setup();
    const created = await call('POST', '/api/projects', { id: 'birds', classes: ['finch', 'robin'] });
    expect(created.status).toBe(201);
    expect(created.json.project).toMatchObject({ id: 'birds', classes: ['finch', 'robin'], confidenceLevels: [0, 0.25, 0.5, 0.75, 1], taskType: 'single-label' });
    expect((await call('GET', '/api/projects')).json.projects.map((p: any) => p.id).sort()).toEqual(['birds', 'flowers']);
    expect((await call('GET', '/api/projects/birds')).json.project.name).toBe('birds');
    expect((await call('POST', '/api/projects', { id: 'birds', classes: ['x'] })).status).toBe(409);
  });

  it("applies the deployment's audit rate (WINNOW_AUDIT_RATE) to projects without their own", async () => {
    const { stores } = await projectWithSamples(1);
    const quality = async (auditRate: number | undefined, projectId: string) => {
      const app = createApp({ stores, featureVectors: shardFeatureVectors(stores.blobs, stores.clock), authenticate: localAuthenticate, auditRate });
      const res = await app.request(`/api/projects/${projectId}/quality`, { headers: { 'x-winnow-user': 'ann' } });
      return ((await res.json()) as { accuracy: { rate: number } }).accuracy.rate;
    };
    const app = createApp({ stores, featureVectors: shardFeatureVectors(stores.blobs, stores.clock), authenticate: localAuthenticate });
    await app.request('/api/projects', { method: 'POST', headers: { 'x-winnow-user': 'ann', 'content-type': 'application/json' }, body: JSON.stringify({ id: 'birds', classes: ['finch', 'robin'] }) });
    expect(await quality(undefined, 'birds')).toBe(0.1);
    expect(await quality(0.25, 'birds')).toBe(0.25);
    // The fixture project sets its own rate (0), which wins.
    expect(await quality(0.25, 'flowers')).toBe(0);
  });

  it('answers unknown projects and samples with a 404 JSON body in the one error shape', async () => {
    const { call } = await setup();
    for (const path of ['/api/projects/nope', '/api/projects/nope/next', '/api/projects/flowers/samples/zz', '/api/nothing-here']) {
      const res = await call('GET', path);
      expect(res.status, path).toBe(404);
      expect(Object.keys(res.json).sort(), path).toEqual(expect.arrayContaining(['code', 'message', 'requestId']));
      expect(res.json.code).toBe('not_found');
    }
  });

  it('names the offending field of a malformed body', async () => {
    const { call } = await setup();
    const missing = await call('POST', '/api/projects/flowers/samples/s1/annotations', { requestId: rid(), classIndex: 0 });
    expect(missing.status).toBe(400);
    expect(missing.json).toMatchObject({ code: 'bad_request', field: 'version' });
    expect(missing.json.message).toContain('version');
    const notJson = await call('POST', '/api/projects', '{"id": ');
    expect(notJson.status).toBe(400);
    expect(notJson.json.code).toBe('bad_request');
    const badId = await call('POST', '/api/projects', { id: 'Has Spaces', classes: ['a'] });
    expect(badId.status).toBe(400);
    expect(badId.json.field).toBe('id');
  });

  it('rejects a class index out of range with 400 and a stale version with 409, writing nothing', async () => {
    const { call, stores } = await setup();
    const out = await call('POST', '/api/projects/flowers/samples/s1/annotations', { version: 0, requestId: rid(), classIndex: 7 });
    expect(out.status).toBe(400);
    expect(out.json.message).toMatch(/out of range/);
    const ok = await call('POST', '/api/projects/flowers/samples/s1/annotations', { version: 0, requestId: rid(), classIndex: 1 });
    expect(ok.status).toBe(201);
    const stale = await call('POST', '/api/projects/flowers/samples/s1/annotations', { version: 0, requestId: rid(), classIndex: 2 }, 'bob');
    expect(stale.status).toBe(409);
    expect(stale.json).toMatchObject({ code: 'stale_version', currentVersion: 1 });
    expect(await stores.annotations.listForSample('flowers', 's1')).toHaveLength(1);
  });

  it('serves, labels, undoes and reports progress for a labeler', async () => {
    const { call } = await setup(3);
    const next = await call('GET', '/api/projects/flowers/next?count=2');
    expect(next.status).toBe(200);
    expect(next.json.samples.map((s: any) => s.sample.sampleId)).toEqual(['s1', 's2']);
    expect(next.json.samples[0].image.url).toMatch(/^memory:\/\//);
    expect(next.json.model.state).toBe('untrained');
    const requestId = rid();
    const body = { version: 0, requestId, classIndex: 0 };
    expect((await call('POST', '/api/projects/flowers/samples/s1/annotations', body)).status).toBe(201);
    expect((await call('POST', '/api/projects/flowers/samples/s1/annotations', body)).status).toBe(200); // retry
    let progress = (await call('GET', '/api/projects/flowers/progress')).json;
    expect(progress).toMatchObject({ total: 3, labeled: 1, remaining: 2, me: { total: 1, today: 1 } });
    expect(progress.byClass[0]).toEqual({ name: 'daisy', count: 1 });
    const history = await call('GET', '/api/projects/flowers/history');
    expect(history.json.items.map((i: any) => i.sample.sampleId)).toEqual(['s1']);
    const undo = await call('POST', '/api/projects/flowers/undo', { requestId: rid() });
    expect(undo.status).toBe(200);
    expect(undo.json.sample.label).toBeUndefined();
    progress = (await call('GET', '/api/projects/flowers/progress')).json;
    expect(progress).toMatchObject({ labeled: 0, me: { total: 0 } });
    expect((await call('POST', '/api/projects/flowers/undo', { requestId: rid() })).status).toBe(409);
  });

  it('rejects an identity header that is not a plain name', async () => {
    const { call } = await setup();
    const res = await call('GET', '/api/projects', undefined, '../../etc/passwd');
    expect(res.status).toBe(400);
    expect(res.json.field).toBe('x-winnow-user');
    // Malformed percent-encoding is a bad name too, not a server error.
    for (const name of ['%', 'a%zz', '%E0%A4%A']) {
      const bad = await call('GET', '/api/projects', undefined, name);
      expect(bad.status, name).toBe(400);
      expect(bad.json).toMatchObject({ code: 'bad_request', field: 'x-winnow-user', requestId: expect.any(String) });
    }
    expect((await call('GET', '/api/projects', undefined, 'Ana%20Lima')).status).toBe(200);
  });
});
