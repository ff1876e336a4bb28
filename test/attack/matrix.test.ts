// The authorization matrix, generated from the apps' own route tables: every route x every principal x every
// spelling of its path. The expected answer of each cell follows from the access level the route declares beside
// its definition (functions/api/access.ts); a cell that lets through what it should not fails the run.
//
//   public      anyone
//   signed-in   a valid token (no token, a forged or an expired one: 401)
//   member      a member of the project in the path, or an admin (another project's labeler: the same 404 as a
//               project that does not exist)
//   owner       an admin (the project's labeler: 403; another project's labeler: 404)
//
// Spellings: plain; percent-encoded characters; double-encoded; trailing slash; case variants; `..` segments. Only
// the plain path and `..` segments that resolve to it (URL parsing does that before the app sees the path) reach
// the route; every other spelling is refused for everyone alike (400 or 404, 401 first when it needs a token).

import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { handle } from 'hono/aws-lambda';
import { createApp } from '../../functions/api/app.js';
import { createLocalServer } from '../../functions/local/server.js';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AccessLevel } from '../../functions/api/access.js';
import {
  createWorld,
  fillPath,
  isErrorBody,
  OTHER_PROJECT,
  paramValue,
  PRINCIPALS,
  routeTable,
  PROJECT,
  send,
  validBody,
  type Answer,
  type Principal,
  type Route,
  type World,
} from './support.js';

const SPELLINGS = ['plain', 'percent-encoded', 'double-encoded', 'trailing slash', 'case variant', 'dot segments'] as const;
type Spelling = (typeof SPELLINGS)[number];

/** What a cell must answer: let the caller through, or refuse with exactly this status. */
type Expected = { allow: true } | { allow: false; status: 401 | 403 | 404 };

const SIGNED_OUT: Principal[] = ['no token', 'forged', 'expired'];
const LABELERS = ['labeler of the project', 'labeler of another project'] as const;

export function expectedFor(level: AccessLevel, principal: Principal, hasProject: boolean): Expected {
  if (level === 'public') return { allow: true };
  if (SIGNED_OUT.includes(principal)) return { allow: false, status: 401 };
  if (principal === 'admin' || level === 'signed-in') return { allow: true };
  const member = principal === 'labeler of the project';
  if (level === 'member') return member ? { allow: true } : { allow: false, status: 404 };
  // owner
  if (!hasProject) return { allow: false, status: 403 };
  return member ? { allow: false, status: 403 } : { allow: false, status: 404 };
}

interface Variant {
  path: string;
  /** 'as plain': reaches the route like the plain path; 'refused': must not reach any route. */
  expect: 'as plain' | 'refused';
}

const pct = (ch: string) => `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;

/** Every spelling of one route's path, from its pattern. */
function spellings(route: Route, world: World): Record<Spelling, Variant[]> {
  const plain = fillPath(route.path, (name) => paramValue(world, name));
  const pattern = route.path.split('/').slice(1);
  const parts = plain.split('/').slice(1);
  const lastStatic = pattern.map((p, i) => (p.startsWith(':') ? -1 : i)).filter((i) => i >= 0).at(-1)!;
  const projectAt = pattern.indexOf(':projectId');
  const join = (ps: string[]) => `/${ps.join('/')}`;
  const edit = (i: number, f: (s: string) => string) => join(parts.map((p, j) => (j === i ? f(p) : p)));
  const encodeFirst = (s: string) => pct(s[0]) + s.slice(1);
  const doubleFirst = (s: string) => pct(s[0]).replace('%', '%25') + s.slice(1);
  const targets = [lastStatic, ...(projectAt >= 0 ? [projectAt] : [])];
  const refused = (paths: string[]): Variant[] => paths.map((path) => ({ path, expect: 'refused' }));
  const first = parts[0]; // 'api' or 'auth'
  return {
    plain: [{ path: plain, expect: 'as plain' }],
    'percent-encoded': refused([...targets.map((i) => edit(i, encodeFirst)), edit(lastStatic, (s) => s.slice(0, -1) + pct(s.at(-1)!))]),
    'double-encoded': refused(targets.map((i) => edit(i, doubleFirst))),
    'trailing slash': refused([`${plain}/`, `${plain}//`]),
    'case variant': refused([
      edit(lastStatic, (s) => s[0].toUpperCase() + s.slice(1)),
      ...(projectAt >= 0 ? [edit(projectAt, (s) => s.toUpperCase())] : []),
      plain.toUpperCase(),
    ]),
    'dot segments': [
      // Resolved by URL parsing before routing: they reach the plain route, and its own check.
      { path: join([...parts.slice(0, -1), 'x', '..', parts.at(-1)!]), expect: 'as plain' },
      { path: `/${first}/x/..${plain.slice(first.length + 1)}`, expect: 'as plain' },
      ...(projectAt >= 0
        ? [
            { path: edit(projectAt, (p) => `${OTHER_PROJECT}/../${p}`), expect: 'as plain' as const },
            { path: edit(projectAt, (p) => `${OTHER_PROJECT}/%2e%2e/${p}`), expect: 'as plain' as const },
            { path: edit(projectAt, (p) => `${OTHER_PROJECT}/..%2F${p}`), expect: 'refused' as const },
          ]
        : [{ path: `/${first}/x/..%2F${plain.slice(first.length + 2)}`, expect: 'refused' as const }]),
    ],
  };
}

const isProjectNotFound = (a: Answer) => a.status === 404 && typeof a.json?.message === 'string' && /^project ".*" not found$/.test(a.json.message);

/**
 * Each GET route's spellings as the given principals, answered in process and through another way of serving the
 * app; the differences, one line each (`where` names the other way).
 */
async function differences(
  world: World,
  routes: Route[],
  principals: readonly Principal[],
  where: string,
  other: (path: string, token: string | undefined) => Promise<{ status: number; detail?: string }>,
): Promise<string[]> {
  const mismatches: string[] = [];
  for (const route of routes) {
    for (const variants of Object.values(spellings(route, world))) {
      for (const { path } of variants) {
        for (const principal of principals) {
          const token = world.tokens[principal];
          const inProcess = (await send(world, route, 'GET', path, token)).status;
          const there = await other(path, token);
          if (there.status !== inProcess) mismatches.push(`${path} as ${principal}: in process ${inProcess}, ${where} ${there.status}${there.detail ? ` ${there.detail}` : ''}`);
        }
      }
    }
  }
  return mismatches;
}

describe('authorization matrix (generated from the route table)', () => {
  let world: World;

  beforeAll(async () => {
    world = await createWorld();
  });

  it('every route declares an access level', () => {
    expect(world.routes.length).toBeGreaterThan(20);
    const keys = world.routes.map((r) => `${r.method} ${r.path}`);
    expect(keys).toContain('GET /api/projects/:projectId/images');
    expect(keys).toContain('POST /auth/login');
    expect(world.routes.filter((r) => !r.access).map((r) => `${r.method} ${r.path}`)).toEqual([]);
    // The table sees a route added tomorrow, however it is added, and finds it undeclared.
    const extended = createApp(world.deps);
    extended.get('/api/projects/:projectId/new-thing', (c) => c.json({}));
    extended.all('/api/catch-all', (c) => c.json({}));
    const undeclared = routeTable(extended, 'api').filter((r) => !r.access).map((r) => `${r.method} ${r.path}`);
    expect(undeclared).toEqual(['GET /api/projects/:projectId/new-thing', 'ALL /api/catch-all']);
  });

  it('answers every cell as the route declares, and refuses every other spelling for everyone', async () => {
    const violations: string[] = [];
    const tally = { cells: 0, requests: 0, allowed: 0, refused: 0, ok2xx: 0 };
    for (const route of world.routes) {
      const level = route.access?.level;
      if (!level) continue; // reported by the test above
      const hasProject = route.path.includes(':projectId');
      const variants = spellings(route, world);
      for (const spelling of SPELLINGS) {
        const seenRefusals = new Map<string, Principal[]>();
        for (const principal of PRINCIPALS) {
          tally.cells++;
          const expected = expectedFor(level, principal, hasProject);
          for (const variant of variants[spelling]) {
            tally.requests++;
            const answer = await send(world, route, route.method === 'ALL' ? 'GET' : route.method, variant.path, world.tokens[principal], validBody(route));
            const cell = `${route.method} ${route.path} [${level}] as ${principal}, ${spelling} ${variant.path} -> ${answer.status} ${answer.text.slice(0, 120)}`;
            if (answer.status >= 500) {
              violations.push(`5xx: ${cell}`);
              continue;
            }
            if (answer.status >= 400 && !isErrorBody(answer.json)) violations.push(`not the error shape: ${cell}`);
            if (variant.expect === 'refused') {
              if (![400, 401, 404].includes(answer.status)) violations.push(`another spelling was served: ${cell}`);
              else if (SIGNED_OUT.includes(principal) && level !== 'public' && answer.status === 404 && hasProject && isProjectNotFound(answer)) {
                violations.push(`project lookup before authentication: ${cell}`);
              }
              if (!SIGNED_OUT.includes(principal)) seenRefusals.set(`${variant.path} ${answer.status}`, [...(seenRefusals.get(`${variant.path} ${answer.status}`) ?? []), principal]);
              tally.refused++;
              continue;
            }
            if (expected.allow) {
              if (answer.status === 401 || answer.status === 403 || isProjectNotFound(answer)) violations.push(`refused although allowed: ${cell}`);
              else tally.allowed++;
              if (answer.status < 300) tally.ok2xx++;
            } else {
              if (answer.status !== expected.status) violations.push(`expected ${expected.status}: ${cell}`);
              else if (expected.status === 404 && answer.json?.message !== `project "${PROJECT}" not found`) {
                violations.push(`a non-member's 404 differs from a missing project's: ${cell}`);
              }
              tally.refused++;
            }
          }
        }
        // A refused spelling is refused alike for every signed-in principal (admins included).
        const byPath = new Map<string, string[]>();
        for (const key of seenRefusals.keys()) {
          const [path, status] = key.split(' ');
          byPath.set(path, [...(byPath.get(path) ?? []), status]);
        }
        for (const [path, statuses] of byPath) {
          if (statuses.length > 1) violations.push(`${route.method} ${path}: refused differently by principal (${statuses.join(', ')})`);
        }
      }
    }
    const routes = world.routes.length;
    console.log(
      `authorization matrix: ${routes} routes x ${PRINCIPALS.length} principals x ${SPELLINGS.length} spellings = ${routes * PRINCIPALS.length * SPELLINGS.length} cells ` +
        `(${tally.requests} requests)`,
    );
    console.log(
      `authorization matrix summary: ${tally.allowed} allowed as declared (${tally.ok2xx} with 2xx), ${tally.refused} refused as declared, ${violations.length} violations`,
    );
    expect(tally.cells).toBe(routes * PRINCIPALS.length * SPELLINGS.length);
    expect(violations).toEqual([]);
  });

  it('gives the same answers over real HTTP, where the Node server parses the raw request line', async () => {
    // Raw paths go out as written (node:http does not normalize them), so the server's own URL handling is in play.
    const server = serve({ fetch: world.api.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    const port = (server.address() as AddressInfo).port;
    const raw = (path: string, token?: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      const routes = world.routes.filter((r) => r.app === 'api' && r.method === 'GET' && r.path.includes(':projectId'));
      const mismatches = await differences(world, routes, LABELERS, 'over HTTP', async (path, token) => ({ status: await raw(path, token) }));
      expect(mismatches).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('gives the same answers behind API Gateway, through the adapter the Lambda uses', async () => {
    // functions/api/lambda.ts serves createApp through hono/aws-lambda's handle(); HTTP API v2 events carry rawPath.
    const lambda = handle(world.api);
    const viaLambda = async (path: string, token?: string) => {
      const [rawPath, rawQueryString = ''] = path.split('?');
      const event = {
        version: '2.0',
        routeKey: '$default',
        rawPath,
        rawQueryString,
        headers: { host: 'api.example.test', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        requestContext: { domainName: 'api.example.test', http: { method: 'GET', path: rawPath, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'matrix' } },
        isBase64Encoded: false,
      };
      const result = (await lambda(event as never, {} as never)) as { statusCode: number };
      return result.statusCode;
    };
    const routes = world.routes.filter((r) => r.app === 'api' && r.method === 'GET' && r.path.includes(':projectId'));
    const mismatches = await differences(world, routes, LABELERS, 'via Lambda', async (path, token) => ({ status: await viaLambda(path, token) }));
    expect(mismatches).toEqual([]);
  });

  it('gives the same answers through the local server that `npm start` runs around the app', async () => {
    // There the app is mounted into the server's own Hono (headers, /auth, files, web app), which wraps its handlers.
    const local = createLocalServer({ ...world.deps, authRoutes: () => world.auth });
    const mismatches = await differences(world, world.routes.filter((r) => r.method === 'GET'), PRINCIPALS, 'local server', async (path, token) => {
      const res = await local.request(path, { headers: { host: '127.0.0.1:8787', ...(token ? { authorization: `Bearer ${token}` } : {}) } });
      return { status: res.status, detail: (await res.text()).slice(0, 100) };
    });
    expect(mismatches).toEqual([]);
  });

  it('reaches the routes it allows: the labeler labels, the admin exports', async () => {
    // A guard that refuses everything would pass the refusal cells; these show the allowed ones do work.
    const lars = world.tokens['labeler of the project'];
    const next = await send(world, { app: 'api' }, 'GET', `/api/projects/${PROJECT}/next`, lars);
    expect(next.status).toBe(200);
    expect(next.json.samples.length).toBeGreaterThan(0);
    const status = await send(world, { app: 'api' }, 'GET', `/api/projects/${PROJECT}/exports/${world.exportId}`, world.tokens.admin);
    expect(status.status).toBe(200);
    expect(status.json.state).toBe('done');
  });
});
