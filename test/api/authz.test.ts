// The API behind real sign-in: tokens from the local issuer, verified by the same aws-jwt-verify code the cloud
// uses, and project membership enforced on every route.

import { beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStores, type MemoryStores } from '../../functions/adapters/memory/index.js';
import { createApp } from '../../functions/api/app.js';
import { openLocalIssuer, type LocalIssuer } from '../../functions/auth/local-issuer.js';
import { addUser } from '../../functions/auth/users.js';
import { createJwtAuthenticate } from '../../functions/auth/verify.js';
import { createProject } from '../../functions/domain/projects.js';
import { ManualClock, sampleFixture } from '../support/fixtures.js';
import { tempDir } from '../support/stack.js';

const ORIGIN = 'http://127.0.0.1:8787';
const PASSWORD = 'Correct-Horse-42!';

describe('API authentication and authorization', () => {
  let issuer: LocalIssuer;
  let stores: MemoryStores;
  let clock: ManualClock;
  let app: ReturnType<typeof createApp>;
  let admin: string;
  let lab: string;

  beforeAll(async () => {
    const dataDir = await tempDir('authz');
    issuer = await openLocalIssuer({ dataDir, origin: ORIGIN });
    await addUser(dataDir, { username: 'olga', password: PASSWORD, groups: ['admin'] });
    await addUser(dataDir, { username: 'lars', password: PASSWORD, groups: ['labeler'] });
    admin = (await issuer.login('olga', PASSWORD)).idToken;
    lab = (await issuer.login('lars', PASSWORD)).idToken;
    clock = new ManualClock(Date.now());
    stores = createMemoryStores(clock);
    await createProject(stores, { id: 'mine', classes: ['a', 'b'], members: ['lars'] }, 'olga');
    await createProject(stores, { id: 'theirs', classes: ['a', 'b'] }, 'olga');
    await stores.samples.putSamplesIfAbsent([sampleFixture('mine', 1), sampleFixture('theirs', 1)]);
    app = createApp({
      stores,
      authenticate: createJwtAuthenticate({ issuer: issuer.issuer, clientId: issuer.clientId, jwks: issuer.jwks() }),
      presignTtlSeconds: 60,
    });
  });

  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    const res = await app.request(path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, json: res.headers.get('content-type')?.includes('json') ? ((await res.json()) as any) : await res.text() };
  };

  it('answers 401 in the one error shape without a token, with garbage, or with an expired or foreign token', async () => {
    const none = await call('GET', '/api/projects');
    expect(none.status).toBe(401);
    expect(none.json).toMatchObject({ code: 'unauthorized' });
    expect(none.json.requestId).toBeTruthy();
    expect((await call('GET', '/api/projects', 'not.a.jwt')).status).toBe(401);

    // Same user name and issuer URL, but another data folder's key: a forgery.
    const foreignDir = await tempDir('authz-foreign');
    await addUser(foreignDir, { username: 'olga', password: PASSWORD, groups: ['admin'] });
    const foreign = await openLocalIssuer({ dataDir: foreignDir, origin: ORIGIN });
    const forged = (await foreign.login('olga', PASSWORD)).idToken;
    expect((await call('GET', '/api/projects', forged)).status).toBe(401);
    const pastDir = await tempDir('authz-expired');
    await addUser(pastDir, { username: 'olga', password: PASSWORD, groups: ['admin'] });
    const expiredIssuer = await openLocalIssuer({ dataDir: pastDir, origin: ORIGIN, now: () => Date.now() - 2 * 3600_000 });
    const expired = (await expiredIssuer.login('olga', PASSWORD)).idToken;
    const res = await createApp({
      stores,
      authenticate: createJwtAuthenticate({ issuer: expiredIssuer.issuer, clientId: expiredIssuer.clientId, jwks: expiredIssuer.jwks() }),
    }).request('/api/projects', { headers: { authorization: `Bearer ${expired}` } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).message).toMatch(/expired/i);
  });

  it('shows a labeler only the projects they are a member of', async () => {
    expect((await call('GET', '/api/projects', lab)).json.projects.map((p: any) => p.id)).toEqual(['mine']);
    expect((await call('GET', '/api/projects', admin)).json.projects.map((p: any) => p.id)).toEqual(['mine', 'theirs']);
  });

  it("refuses a labeler on another project's samples and on admin routes with 403", async () => {
    for (const path of ['/api/projects/theirs', '/api/projects/theirs/next', '/api/projects/theirs/samples/s1', '/api/projects/theirs/progress']) {
      const res = await call('GET', path, lab);
      expect(res.status, path).toBe(403);
      expect(res.json.code).toBe('forbidden');
    }
    expect((await call('POST', '/api/projects', lab, { id: 'new', classes: ['x', 'y'] })).status).toBe(403);
    expect((await call('GET', '/api/projects/mine/export.csv', lab)).status).toBe(403);
    expect((await call('GET', '/api/projects/mine/images', lab)).status).toBe(403);
    expect((await call('PATCH', '/api/projects/mine', lab, { version: 1, name: 'x' })).status).toBe(403);
    expect((await call('POST', '/api/projects/theirs/samples/s1/annotations', lab, { version: 0, requestId: 'req-12345678', classIndex: 0 })).status).toBe(403);
    expect((await call('GET', '/api/projects/mine/export.csv', admin)).status).toBe(200);
  });

  it('lets a member label and serves images through presigned URLs that expire', async () => {
    const next = await call('GET', '/api/projects/mine/next', lab);
    expect(next.status).toBe(200);
    const { sample } = next.json.samples[0];
    const saved = await call('POST', `/api/projects/mine/samples/${sample.sampleId}/annotations`, lab, { version: 0, requestId: 'req-lars-0001', classIndex: 1 });
    expect(saved.status).toBe(201);
    expect(saved.json.annotation.labelerId).toBe('lars');
    await stores.blobs.put('derived/mine/i1/display.webp', new Uint8Array([1, 2, 3]), 'image/webp');
    await stores.samples.putImageIfAbsent({ projectId: 'mine', imageId: 'i1', key: 'uploads/mine/a.jpg', etag: 'e', bytes: 3, status: 'ready', order: 'o', createdAt: 'c', updatedAt: 'u' });
    const { json } = await call('GET', `/api/projects/mine/samples/${sample.sampleId}`, lab);
    expect((await stores.blobs.fetchPresigned(json.image.url)).status).toBe(200);
    clock.advance(61_000);
    expect((await stores.blobs.fetchPresigned(json.image.url)).status).toBe(403);
  });
});
