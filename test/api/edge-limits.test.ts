// The API's edge bounds what a caller can send: each route reads at most its body limit (413 in the one error shape,
// with or without a Content-Length, and even when the Content-Length lies), and every id in a path is checked for
// length and characters before any store sees it (400 naming the field, never a 5xx from DynamoDB's key limits).
// In-memory stores for the body limits; dynalite + s3rver for the ids, where DynamoDB's own limits apply.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { createApp } from '../../functions/api/app.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import type { Authenticate } from '../../functions/api/types.js';
import { createAuthRoutes, LOGIN_MAX_BODY_BYTES } from '../../functions/auth/routes.js';
import { openLocalIssuer } from '../../functions/auth/local-issuer.js';
import { createProject } from '../../functions/domain/projects.js';
import { startDynalite } from '../../functions/local/emulators.js';
import { startAwsTarget, type AwsTarget } from '../contract/aws-target.js';
import { ManualClock, sampleFixture } from '../support/fixtures.js';
import { tempDir } from '../support/stack.js';

/** x-user names the caller; x-group their group. */
const authenticate: Authenticate = async (req) => ({
  userId: req.headers.get('x-user') ?? 'olga',
  groups: [req.headers.get('x-group') ?? 'admin'],
});
const LABELER = { 'x-user': 'lars', 'x-group': 'labeler' };
const MiB = 1024 * 1024;

/** A body of `total` bytes made on demand, counting how many bytes the server actually pulled. */
function meteredBody(total: number, chunk = 64 * 1024) {
  const meter = { pulled: 0 };
  const block = new Uint8Array(chunk).fill(0x20);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (meter.pulled >= total) return controller.close();
      const n = Math.min(chunk, total - meter.pulled);
      meter.pulled += n;
      controller.enqueue(n === chunk ? block : block.subarray(0, n));
    },
  });
  return { stream, meter };
}

function expectErrorBody(json: any, code: string) {
  expect(json).toMatchObject({ code, message: expect.any(String), requestId: expect.any(String) });
}

describe('request body limits', () => {
  let app: ReturnType<typeof createApp>;
  let auth: ReturnType<typeof createAuthRoutes>;

  beforeAll(async () => {
    const stores = createMemoryStores(new ManualClock(Date.now()));
    await createProject(stores, { id: 'mine', classes: ['a', 'b'], members: ['lars'] }, 'olga');
    await stores.samples.putSamplesIfAbsent([sampleFixture('mine', 1)]);
    app = createApp({ stores, featureVectors: shardFeatureVectors(stores.blobs, stores.clock), authenticate });
    auth = createAuthRoutes(await openLocalIssuer({ dataDir: await tempDir('edge-auth'), origin: 'http://127.0.0.1:8787' }));
  });

  const post = (target: { request: typeof app.request }, path: string, body: BodyInit, headers: Record<string, string> = {}) =>
    target.request(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, duplex: 'half' } as RequestInit);

  it('refuses a body over the route limit by its Content-Length, before reading it', async () => {
    const { stream, meter } = meteredBody(200 * MiB);
    const res = await post(app, '/api/projects/mine/samples/s1/annotations', stream, { ...LABELER, 'content-length': String(200 * MiB) });
    expect(res.status).toBe(413);
    const json = await res.json();
    expectErrorBody(json, 'payload_too_large');
    expect(json).toMatchObject({ field: 'body', limitBytes: 2 * MiB });
    expect(meter.pulled).toBeLessThan(1 * MiB);
  });

  it('stops reading a body without a Content-Length at the limit', async () => {
    const { stream, meter } = meteredBody(200 * MiB);
    const res = await post(app, '/api/projects/mine/undo', stream, LABELER);
    expect(res.status).toBe(413);
    expectErrorBody(await res.json(), 'payload_too_large');
    // 16 KiB limit: the server stopped within a few chunks of it, not after 200 MiB.
    expect(meter.pulled).toBeLessThanOrEqual(16 * 1024 + 2 * 64 * 1024);
  });

  it('counts the bytes that arrive, whatever the Content-Length says', async () => {
    const res = await post(app, '/api/projects/mine/undo', JSON.stringify({ requestId: 'req-12345678', pad: 'x'.repeat(100_000) }), {
      ...LABELER,
      'content-length': '40',
    });
    expect(res.status).toBe(413);
    expectErrorBody(await res.json(), 'payload_too_large');
  });

  it('still takes a body within the limit and validates it as before', async () => {
    const ok = await post(app, '/api/projects/mine/samples/s1/annotations', JSON.stringify({ version: 0, requestId: 'req-12345678', classIndex: 1 }), LABELER);
    expect(ok.status).toBe(201);
    const bad = await post(app, '/api/projects/mine/samples/s1/annotations', '{"version":', LABELER);
    expect(bad.status).toBe(400);
    expectErrorBody(await bad.json(), 'bad_request');
    // A large import within its own (larger) limit is read whole and answered on its content.
    const items = Array.from({ length: 400 }, (_, i) => ({ source: `row ${i}`, file: `f${i}.jpg`, boxes: [], classes: [{ name: 'a', confidence: 1 }], labelerId: 'x'.repeat(190) }));
    const big = await post(app, '/api/projects/mine/imports', JSON.stringify({ mode: 'labels', dryRun: true, items }));
    expect(big.status).not.toBe(413);
  });

  it('bounds /auth/login, which takes no token, to a small body', async () => {
    const { stream, meter } = meteredBody(200 * MiB);
    const res = await post(auth, '/auth/login', stream, { 'content-length': String(200 * MiB) });
    expect(res.status).toBe(413);
    expectErrorBody(await res.json(), 'payload_too_large');
    expect(meter.pulled).toBeLessThan(1 * MiB);

    const chunked = meteredBody(200 * MiB);
    const res2 = await post(auth, '/auth/login', chunked.stream);
    expect(res2.status).toBe(413);
    expectErrorBody(await res2.json(), 'payload_too_large');
    expect(chunked.meter.pulled).toBeLessThanOrEqual(LOGIN_MAX_BODY_BYTES + 2 * 64 * 1024);
    // A normal sign-in body is still read: a wrong password is a 401, not a 413.
    const wrong = await post(auth, '/auth/login', JSON.stringify({ username: 'nobody', password: 'Wrong-password-1!' }));
    expect(wrong.status).toBe(401);
  });
});

describe('ids in paths, on dynalite', () => {
  let target: AwsTarget;
  let app: ReturnType<typeof createApp>;

  beforeAll(async () => {
    target = await startAwsTarget(() => startDynalite());
    await createProject(target.stores, { id: 'mine', classes: ['a', 'b'], members: ['lars'] }, 'olga');
    app = createApp({ stores: target.stores, featureVectors: shardFeatureVectors(target.stores.blobs, target.stores.clock), authenticate });
  });
  afterAll(async () => {
    await target?.close();
  });

  const call = async (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) => {
    const res = await app.request(path, {
      method,
      headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, json: (await res.json()) as any };
  };

  const long = (n: number) => 'a'.repeat(n);
  const cases: [string, string, string, unknown?][] = [
    ['GET', `/api/projects/${long(2049)}`, 'projectId'],
    ['GET', `/api/projects/${long(2049)}/next`, 'projectId'],
    ['GET', `/api/projects/${long(64)}/progress`, 'projectId'],
    ['GET', `/api/projects/mine/samples/${long(1100)}`, 'sampleId'],
    ['POST', `/api/projects/mine/samples/${long(1100)}/annotations`, 'sampleId', { version: 0, requestId: 'req-12345678', classIndex: 0 }],
    ['GET', `/api/projects/mine/samples/${long(129)}/similar`, 'sampleId'],
    ['GET', `/api/projects/mine/images/${long(1100)}/file`, 'imageId'],
    ['GET', `/api/projects/mine/exports/${long(1100)}`, 'exportId'],
    ['GET', '/api/projects/mine/samples/a$b', 'sampleId'],
    ['GET', '/api/projects/Mine/next', 'projectId'],
  ];

  it('answers over-long or odd ids with 400 naming the field, for labelers and admins alike', async () => {
    for (const [method, path, field, body] of cases) {
      for (const who of [LABELER, {}]) {
        const res = await call(method, path, who, body);
        expect(res.status, `${method} ${path.slice(0, 60)} as ${who['x-user' as never] ?? 'admin'}`).toBe(400);
        expectErrorBody(res.json, 'bad_request');
        expect(res.json.field).toBe(field);
        expect(res.json.message.length).toBeLessThan(300);
      }
    }
  });

  it('still serves plain ids as before', async () => {
    expect((await call('GET', '/api/projects/mine', LABELER)).status).toBe(200);
    expect((await call('GET', '/api/projects/mine/samples/s-404', LABELER)).status).toBe(404);
  });
});
