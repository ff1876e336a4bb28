// Fuzzing every route of the route table (the API app and the /auth routes) with fast-check: hostile path
// parameters, query strings and bodies, as an admin (who reaches the most code) and as a labeler. Whatever arrives,
// the server never answers 5xx, every rejection is the one error shape { code, message, requestId }, and a body
// over the route's limit is refused after reading at most the limit (memory stays bounded).

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { createApp } from '../../functions/api/app.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import { localAuthenticate, USER_HEADER } from '../../functions/api/auth-local.js';
import { startDynalite } from '../../functions/local/emulators.js';
import { startAwsTarget, type AwsTarget } from '../contract/aws-target.js';
import { createWorld, fillPath, isErrorBody, paramNames, paramValue, send, validBody, type Route, type World } from './support.js';

const RUNS_PER_ROUTE = Number(process.env.WINNOW_FUZZ_RUNS ?? 80);
/** Sign-in checks a password with scrypt (deliberately slow): fewer runs there. */
const RUNS_LOGIN = 15;

const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer({ min: 60, max: 4000 }).map((n) => 'a'.repeat(n)),
  fc.constantFrom('..', '.', '%2e%2e', '%00', '\u0000', 'a/b', '😀', ' ', '%', '%%', '%zz', '%2525', 'null', '-1', '1e309', 'NaN', '__proto__', 'constructor'),
);

/** A path parameter: the real value, a plausible id, or something hostile; sent encoded or raw. */
const paramArb = (real: string) =>
  fc.tuple(fc.oneof(fc.constant(real), fc.stringMatching(/^[A-Za-z0-9._-]{1,40}$/), hostileText), fc.boolean()).map(([v, encode]) =>
    encode ? encodeURIComponent(v) : v,
  );

const QUERY_KEYS = ['count', 'limit', 'cursor', 'status', 'variant', 'k', 'format', 'x', '__proto__'];
const queryArb = fc.dictionary(
  fc.constantFrom(...QUERY_KEYS),
  fc.oneof(hostileText, fc.integer().map(String), fc.double().map(String), fc.constantFrom('0', '1', '20', '500', '501', 'ready', 'thumb')),
  { maxKeys: 4 },
);

/** A body: the route's valid body with fields replaced by anything, any JSON, or text that is not JSON at all. */
function bodyArb(route: Route) {
  const valid = validBody(route);
  const base = valid && typeof valid === 'object' ? (valid as Record<string, unknown>) : {};
  const keys = [...Object.keys(base), 'extra'];
  const mutated = fc
    .array(fc.tuple(fc.constantFrom(...keys), fc.jsonValue({ maxDepth: 3 })), { maxLength: 3 })
    .map((edits) => JSON.stringify(edits.reduce((b, [k, v]) => ({ ...b, [k]: v }), { ...base })));
  return fc.oneof(
    { weight: 4, arbitrary: mutated },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    { weight: 1, arbitrary: fc.constantFrom('', '{', '{"a":', '[]', 'null', '{"__proto__":{"admin":true}}', '\u0000', '1'.repeat(5000)) },
  );
}

const contentTypeArb = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', undefined);

/** Runs the property over every route of the world; returns what broke (5xx, or a rejection not in the error shape). */
async function fuzzRoutes(world: World, runs: number) {
  const rssBefore = process.memoryUsage().rss;
  const problems: string[] = [];
  let requests = 0;
  for (const route of world.routes) {
    const names = paramNames(route.path);
    const method = route.method === 'ALL' ? 'GET' : route.method;
    const hasBody = method !== 'GET' && method !== 'HEAD';
    const arb = fc.record({
      params: fc.tuple(...names.map((n) => paramArb(paramValue(world, n)))),
      query: queryArb,
      body: hasBody ? bodyArb(route) : fc.constant(undefined),
      contentType: contentTypeArb,
      who: fc.constantFrom('admin', 'labeler of the project') as fc.Arbitrary<'admin' | 'labeler of the project'>,
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ params, query, body, contentType, who }) => {
        const values = new Map(names.map((n, i) => [n, params[i] ?? '']));
        const path = fillPath(route.path, (n) => values.get(n)!);
        const search = new URLSearchParams(query).toString();
        let url: string;
        try {
          url = new URL(`${path}${search ? `?${search}` : ''}`, 'http://localhost').toString().slice('http://localhost'.length);
        } catch {
          return; // not a URL any client could send
        }
        requests++;
        const answer = await send(world, route, method, url, world.tokens[who], undefined, {
          headers: contentType ? { 'content-type': contentType } : {},
          ...(body !== undefined ? { body } : {}),
        });
        const where = `${route.method} ${route.path} as ${who}: ${url.slice(0, 200)} body ${String(body).slice(0, 200)} -> ${answer.status} ${answer.text.slice(0, 200)}`;
        if (answer.status >= 500) problems.push(`5xx: ${where}`);
        else if (answer.status >= 400 && !isErrorBody(answer.json)) problems.push(`not the error shape: ${where}`);
        return answer.status < 500 && (answer.status < 400 || isErrorBody(answer.json));
      }),
      { numRuns: route.path === '/auth/login' ? Math.min(RUNS_LOGIN, runs) : runs, seed: Number(process.env.WINNOW_FUZZ_SEED ?? 20261206), endOnFailure: true },
    ).catch((err: Error) => problems.push(`${route.method} ${route.path}: ${err.message.split('\n').slice(0, 6).join(' | ')}`));
  }
  return { problems, requests, grownMiB: (process.memoryUsage().rss - rssBefore) / 2 ** 20 };
}

describe('fuzzing every route (fast-check)', () => {
  let world: World;

  beforeAll(async () => {
    world = await createWorld();
  });

  it('answers hostile params, queries and bodies without a 5xx, always in the error shape', { timeout: 180_000 }, async () => {
    const { problems, requests, grownMiB } = await fuzzRoutes(world, RUNS_PER_ROUTE);
    console.log(`fuzz: ${requests} requests over ${world.routes.length} routes, ${problems.length} problems, rss grew ${grownMiB.toFixed(0)} MiB`);
    expect(problems).toEqual([]);
    expect(grownMiB).toBeLessThan(512);
  });

  it('answers hostile identity headers (Authorization, and the loopback labeler-name header) with 4xx', async () => {
    const real = world.tokens.admin!;
    const tokenArb = fc.oneof(
      hostileText.map((t) => `Bearer ${t}`),
      hostileText,
      fc.nat({ max: real.length - 1 }).map((n) => `Bearer ${real.slice(0, n)}`),
      fc.tuple(fc.nat({ max: real.length - 1 }), fc.constantFrom('A', '.', '-', '_', '=')).map(([i, ch]) => `Bearer ${real.slice(0, i)}${ch}${real.slice(i + 1)}`),
      fc.constantFrom('Bearer', 'Bearer ', 'bearer  x.y.z', `Bearer ${real} ${real}`, `Basic ${Buffer.from('olga:x').toString('base64')}`),
    );
    const stores = createMemoryStores();
    const local = createApp({ stores, featureVectors: shardFeatureVectors(stores.blobs, stores.clock), authenticate: localAuthenticate });
    const paths = ['/api/projects', '/api/projects/pa/next', '/api/projects/pa/progress'];
    const problems: string[] = [];
    const check = async (app: { request: typeof local.request }, path: string, headers: Record<string, string>) => {
      let res: Response;
      try {
        res = await app.request(path, { headers });
      } catch {
        return true; // a header value no client can send (rejected by the Headers class)
      }
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      const ok = res.status < 500 && (res.status < 400 || isErrorBody(json));
      if (!ok) problems.push(`${path} ${JSON.stringify(headers).slice(0, 200)} -> ${res.status} ${text.slice(0, 200)}`);
      return ok;
    };
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), tokenArb, (path, authorization) => check(world.api, path, { authorization })),
      { numRuns: 300, seed: 20261206 },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), hostileText, (path, name) => check(local, path, { [USER_HEADER]: name })),
      { numRuns: 300, seed: 20261206 },
    );
    expect(problems).toEqual([]);
  });

  it('refuses a body over each route limit after reading at most the limit', async () => {
    const MiB = 2 ** 20;
    for (const route of world.routes.filter((r) => !['GET', 'HEAD', 'ALL'].includes(r.method))) {
      const limit = route.access!.maxBodyBytes;
      const total = limit + 8 * MiB;
      let pulled = 0;
      const chunk = new Uint8Array(64 * 1024).fill(0x20);
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (pulled >= total) return controller.close();
          pulled += chunk.length;
          controller.enqueue(chunk);
        },
      });
      const path = fillPath(route.path, (n) => paramValue(world, n));
      const answer = await send(world, route, route.method, path, world.tokens.admin, undefined, {
        headers: { 'content-type': 'application/json' },
        body: stream,
      });
      expect(answer.status, `${route.method} ${route.path}`).toBe(413);
      expect(isErrorBody(answer.json)).toBe(true);
      expect(pulled, `${route.method} ${route.path} read ${pulled} bytes for a ${limit}-byte limit`).toBeLessThanOrEqual(limit + 2 * chunk.length);
    }
  });
});

describe('fuzzing path ids on dynalite (DynamoDB key limits)', () => {
  let target: AwsTarget;
  let world: World;

  beforeAll(async () => {
    target = await startAwsTarget(() => startDynalite());
    world = await createWorld({ stores: target.stores });
  });
  afterAll(async () => {
    await target?.close();
  });

  it('answers hostile ids with 4xx, never a 5xx from the store', { timeout: 180_000 }, async () => {
    const { problems, requests } = await fuzzRoutes(world, Number(process.env.WINNOW_FUZZ_DYNALITE_RUNS ?? 25));
    console.log(`fuzz on dynalite: ${requests} requests over ${world.routes.length} routes, ${problems.length} problems`);
    expect(problems).toEqual([]);
  });
});
