// The API behind real sign-in: tokens from the local issuer, verified by the same aws-jwt-verify code the cloud
// uses, and project membership enforced on every route.

import { beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStores, type MemoryStores } from '../../functions/adapters/memory/index.js';
import { createApp } from '../../functions/api/app.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
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
      featureVectors: shardFeatureVectors(stores.blobs, stores.clock),
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
      featureVectors: shardFeatureVectors(stores.blobs, stores.clock),
      authenticate: createJwtAuthenticate({ issuer: expiredIssuer.issuer, clientId: expiredIssuer.clientId, jwks: expiredIssuer.jwks() }),
    }).request('/api/projects', { headers: { authorization: `Bearer ${expired}` } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).message).toMatch(/expired/i);
  });

  it('shows a labeler only the projects they are a member of', async () => {
    expect((await call('GET', '/api/projects', lab)).json.projects.map((p: any) => p.id)).toEqual(['mine']);
    expect((await call('GET', '/api/projects', admin)).json.projects.map((p: any) => p.id)).toEqual(['mine', 'theirs']);
  });

  /** Status and body, with the id the caller typed and the per-request id taken out. */
  const seen = (r: { status: number; json: any }, id: string) => ({
    status: r.status,
    body: { ...r.json, message: String(r.json.message).replaceAll(id, '<id>'), requestId: typeof r.json.requestId },
  });

  it("answers a labeler the same 404 for another project's routes as for a project that does not exist", async () => {
    const routes = [
      ['GET', ''], ['GET', '/next'], ['GET', '/samples/s1'], ['GET', '/progress'], ['GET', '/images'], ['POST', '/exports'],
      ['POST', '/samples/s1/annotations'], ['PATCH', ''], ['GET', '/review/mislabeled'], ['GET', '/agreement'], ['POST', '/imports'],
    ] as const;
    for (const [method, rest] of routes) {
      const body = method === 'GET' ? undefined : { version: 0, requestId: 'req-12345678', classIndex: 0 };
      const theirs = await call(method, `/api/projects/theirs${rest}`, lab, body);
      const missing = await call(method, `/api/projects/nosuch${rest}`, lab, body);
      expect(theirs.status, `${method} theirs${rest}`).toBe(404);
      expect(seen(theirs, 'theirs'), `${method} theirs${rest}`).toEqual(seen(missing, 'nosuch'));
      expect(missing.json).toMatchObject({ code: 'not_found', message: 'project "nosuch" not found' });
    }
    // An admin sees every project, so a 404 is only ever a missing one.
    expect((await call('GET', '/api/projects/theirs', admin)).status).toBe(200);
    expect((await call('GET', '/api/projects/nosuch', admin)).status).toBe(404);
  });

  it("refuses a labeler the owner routes of their own project with 403, and project creation", async () => {
    expect((await call('POST', '/api/projects', lab, { id: 'new', classes: ['x', 'y'] })).status).toBe(403);
    for (const [method, path] of [['GET', '/api/projects/mine/images'], ['PATCH', '/api/projects/mine'], ['POST', '/api/projects/mine/uploads'], ['GET', '/api/projects/mine/review/mislabeled'], ['GET', '/api/projects/mine/agreement']] as const) {
      const res = await call(method, path, lab, method === 'GET' ? undefined : { version: 1, name: 'x' });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.json.code).toBe('forbidden');
    }
    expect((await call('GET', '/api/projects/mine/images', admin)).status).toBe(200);
    // Agreement names which labelers disagree with whom: the owner's, like the gallery's split filter.
    expect((await call('GET', '/api/projects/mine/agreement', admin)).status).toBe(200);
  });

  it('gives an owner route no other spelling: percent-encoded, double-encoded, trailing slash or case variants never reach it', async () => {
    const spellings = [
      '/api/projects/min%65/images', // project id with an encoded letter
      '/api/projects/mine/%69mages', // encoded route segment
      '/api/projects/mine/%2569mages', // double-encoded
      '/api/projects/mine%2Fimages',
      '/api/projects/mine/images/',
      '/api/projects/mine//images',
      '/api/projects/mine/Images',
      '/api/projects/MINE/images',
    ];
    for (const path of spellings) {
      const res = await call('GET', path, lab);
      expect([400, 404], `${path} -> ${res.status}`).toContain(res.status);
      expect(res.json).toMatchObject({ code: expect.any(String), message: expect.any(String), requestId: expect.any(String) });
      // The owner gets the same refusal: one spelling per path, for everyone.
      expect((await call('GET', path, admin)).status, path).toBe(res.status);
    }
    expect((await call('GET', '/api/projects/min%65/images', lab)).json).toMatchObject({ code: 'bad_request', field: 'path' });
    // `..` segments are resolved before routing, so they land on the plain route and its own check.
    expect((await call('GET', '/api/projects/theirs/../mine/images', lab)).status).toBe(403);
    expect((await call('GET', '/api/projects/theirs/%2e%2e/mine/images', lab)).status).toBe(403);
    expect((await call('GET', '/api/projects/x/../mine/images', admin)).status).toBe(200);
  });

  it('refuses a route that declares no access level, whoever asks', async () => {
    const bare = createApp({ stores, featureVectors: shardFeatureVectors(stores.blobs, stores.clock), authenticate: createJwtAuthenticate({ issuer: issuer.issuer, clientId: issuer.clientId, jwks: issuer.jwks() }) });
    bare.get('/api/projects/:projectId/secret', (c) => c.json({ secret: c.req.param('projectId') }));
    bare.get('/api/open', (c) => c.json({ secret: true }));
    for (const path of ['/api/projects/mine/secret', '/api/open']) {
      for (const token of [undefined, lab, admin]) {
        const res = await bare.request(path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
        expect(res.status, path).toBe(403);
        expect(await res.json()).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/declares no access level/) });
      }
    }
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
