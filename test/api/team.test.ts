// Team management from the app, over HTTP against the one API app with the local issuer's real tokens: an owner
// invites a labeler into a project, removes them, disables them, promotes and demotes them, resets their password;
// each change is in force on the very next request made with a token issued before it, on every kind of route.
// Every change lands in the audit log, readable by owners only (JSON pages, CSV, JSON Lines).

import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { createApp } from '../../functions/api/app.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import type { ApiDeps } from '../../functions/api/types.js';
import { withCurrentAccount } from '../../functions/auth/current-account.js';
import { localDirectory } from '../../functions/auth/local-directory.js';
import { openLocalIssuer, type LocalIssuer } from '../../functions/auth/local-issuer.js';
import { addUser } from '../../functions/auth/users.js';
import { createJwtAuthenticate } from '../../functions/auth/verify.js';
import type { Stores } from '../../functions/domain/ports.js';
import { createProject } from '../../functions/domain/projects.js';
import { ManualClock, sampleFixture } from '../support/fixtures.js';
import { tempDir } from '../support/stack.js';

const PASSWORD = 'Correct-Horse-42!';
const PROJECT = 'meadow';

describe('team management over HTTP', () => {
  let server: ServerType;
  let base: string;
  let issuer: LocalIssuer;
  let stores: Stores;
  let olga: string;

  beforeAll(async () => {
    const dataDir = await tempDir('team');
    await addUser(dataDir, { username: 'olga', password: PASSWORD, groups: ['admin'] });
    await addUser(dataDir, { username: 'lena', password: PASSWORD, groups: ['labeler'] });
    issuer = await openLocalIssuer({ dataDir, origin: 'http://127.0.0.1:8787' });
    stores = createMemoryStores(new ManualClock(Date.now()));
    await createProject(stores, { id: PROJECT, classes: ['daisy', 'tulip'], members: ['lena'] }, 'olga');
    await stores.samples.putSamplesIfAbsent(Array.from({ length: 6 }, (_, i) => sampleFixture(PROJECT, i + 1)));
    const directory = localDirectory(dataDir);
    const deps: ApiDeps = {
      stores,
      featureVectors: shardFeatureVectors(stores.blobs, stores.clock),
      team: directory,
      authenticate: withCurrentAccount(createJwtAuthenticate({ issuer: issuer.issuer, clientId: issuer.clientId, jwks: issuer.jwks() }), directory),
    };
    const app = createApp(deps);
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    olga = (await issuer.login('olga', PASSWORD)).idToken;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  async function call(token: string, method: string, path: string, body?: unknown) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', json: res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : undefined, text };
  }
  const owner = (method: string, path: string, body?: unknown) => call(olga, method, path, body);
  const auditOf = async (log: string) => {
    const res = await owner('GET', log === 'team' ? '/api/team/audit' : `/api/projects/${log}/audit`);
    expect(res.status).toBe(200);
    return res.json.items as { action: string; actor: string; target: Record<string, unknown>; at: string }[];
  };

  it('invites a labeler into a project: the temporary password signs in and reaches that project only', async () => {
    const invited = await owner('POST', '/api/team/users', { userId: 'Bob', email: 'bob@example.org', projectId: PROJECT });
    expect(invited.status).toBe(201);
    expect(invited.json.account).toMatchObject({ userId: 'bob', role: 'labeler', enabled: true, email: 'bob@example.org' });
    expect(invited.json.delivery).toBe('shown-once');
    const bob = (await issuer.login('bob', invited.json.temporaryPassword)).idToken;
    expect((await call(bob, 'GET', `/api/projects/${PROJECT}/next?count=1`)).status).toBe(200);
    // A labeler may not manage the team.
    const refused = await call(bob, 'GET', '/api/team/users');
    expect(refused.status).toBe(403);
    expect(refused.json.message).toMatch(/admin/);
    expect((await call(bob, 'GET', `/api/projects/${PROJECT}/team`)).status).toBe(403);
    expect((await call(bob, 'POST', `/api/projects/${PROJECT}/members`, { userId: 'bob' })).status).toBe(403);

    const team = await owner('GET', `/api/projects/${PROJECT}/team`);
    expect(team.json.team.map((r: { userId: string }) => r.userId)).toEqual(['bob', 'lena', 'olga']);
    expect(team.json.team.find((r: { userId: string }) => r.userId === 'bob')).toMatchObject({ member: true, role: 'labeler', hasAccount: true });
    expect((await auditOf('team')).map((e) => e.action)).toContain('user.invite');
    expect((await auditOf(PROJECT))[0]).toMatchObject({ action: 'member.add', actor: 'olga', target: { userId: 'bob' } });
  });

  it('a removed member is refused on the next request with the token they hold, and their leased sample is free at once', async () => {
    const lena = (await issuer.login('lena', PASSWORD)).idToken;
    const served = await call(lena, 'GET', `/api/projects/${PROJECT}/next?count=1`);
    expect(served.status).toBe(200);
    const leased = served.json.samples[0].sample.sampleId as string;
    const removed = await owner('DELETE', `/api/projects/${PROJECT}/members`, { userId: 'lena' });
    expect(removed.status).toBe(200);
    expect(removed.json.leasesEnded).toBeGreaterThanOrEqual(1);
    for (const [method, path] of [
      ['GET', `/api/projects/${PROJECT}`],
      ['GET', `/api/projects/${PROJECT}/next?count=1`],
      ['POST', `/api/projects/${PROJECT}/samples/${leased}/annotations`],
    ] as const) {
      const res = await call(lena, method, path, method === 'POST' ? { version: 0, requestId: 'r-lena-1', classIndex: 0 } : undefined);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.json.message).toBe(`project "${PROJECT}" not found`);
    }
    expect((await call(lena, 'GET', '/api/projects')).json.projects).toEqual([]);
    expect((await stores.samples.getSample(PROJECT, leased))!.lease!.until).toBeLessThan(Date.now());
    // Removing someone who is not a member says so.
    const again = await owner('DELETE', `/api/projects/${PROJECT}/members`, { userId: 'lena' });
    expect(again.status).toBe(404);
    expect(again.json.message).toMatch(/member "lena"/);
    expect((await auditOf(PROJECT))[0]).toMatchObject({ action: 'member.remove', actor: 'olga', target: { userId: 'lena' } });
  });

  it('a disabled account is refused at once on every route and at sign-in; enabling it restores access', async () => {
    await owner('POST', `/api/projects/${PROJECT}/members`, { userId: 'lena' });
    const lena = (await issuer.login('lena', PASSWORD)).idToken;
    expect((await call(lena, 'GET', `/api/projects/${PROJECT}`)).status).toBe(200);
    expect((await owner('PATCH', '/api/team/users', { userId: 'lena', enabled: false })).json.account).toMatchObject({ enabled: false });
    for (const path of ['/api/projects', `/api/projects/${PROJECT}`, `/api/projects/${PROJECT}/progress`]) {
      const res = await call(lena, 'GET', path);
      expect(res.status, path).toBe(401);
      expect(res.json.message).toMatch(/disabled/);
    }
    await expect(issuer.login('lena', PASSWORD)).rejects.toThrow(/disabled/);
    await owner('PATCH', '/api/team/users', { userId: 'lena', enabled: true });
    expect((await call(lena, 'GET', `/api/projects/${PROJECT}`)).status).toBe(200);
    expect((await auditOf('team')).slice(0, 2).map((e) => e.action)).toEqual(['user.enable', 'user.disable']);
  });

  it('promotion and demotion take effect on the next request, whatever the token still claims', async () => {
    const lena = (await issuer.login('lena', PASSWORD)).idToken; // issued as a labeler
    expect((await call(lena, 'GET', '/api/team/users')).status).toBe(403);
    expect((await owner('PATCH', '/api/team/users', { userId: 'lena', role: 'owner' })).json.account.role).toBe('owner');
    expect((await call(lena, 'GET', '/api/team/users')).status).toBe(200);
    await owner('PATCH', '/api/team/users', { userId: 'lena', role: 'labeler' });
    expect((await call(lena, 'GET', '/api/team/users')).status).toBe(403);
  });

  it('resets a password: the old one stops signing in, the new one is shown once', async () => {
    const reset = await owner('POST', '/api/team/password-resets', { userId: 'lena' });
    expect(reset.status).toBe(200);
    await expect(issuer.login('lena', PASSWORD)).rejects.toThrow(/wrong/);
    await expect(issuer.login('lena', reset.json.temporaryPassword)).resolves.toHaveProperty('idToken');
  });

  it('refuses bad input with a JSON reason naming the problem', async () => {
    const badName = await owner('POST', '/api/team/users', { userId: 'has space' });
    expect(badName.status).toBe(400);
    expect(badName.json).toMatchObject({ code: 'bad_request', field: 'username' });
    const taken = await owner('POST', '/api/team/users', { userId: 'lena' });
    expect(taken.status).toBe(409);
    expect(taken.json.message).toMatch(/already exists/);
    const noProject = await owner('POST', '/api/team/users', { userId: 'carl', projectId: 'nowhere' });
    expect(noProject.status).toBe(404);
    const nothing = await owner('PATCH', '/api/team/users', { userId: 'lena' });
    expect(nothing.status).toBe(400);
    expect(nothing.json.message).toMatch(/role/);
    const self = await owner('PATCH', '/api/team/users', { userId: 'olga', enabled: false });
    expect(self.status).toBe(409);
    expect(self.json.message).toMatch(/yourself/);
    const unknown = await owner('POST', '/api/team/password-resets', { userId: 'nobody' });
    expect(unknown.status).toBe(404);
    expect(unknown.json.message).toMatch(/nobody/);
  });

  it('exports the audit log as CSV and JSON Lines, for owners only', async () => {
    const csv = await owner('GET', `/api/projects/${PROJECT}/audit?format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.type).toMatch(/text\/csv/);
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toBe('at,actor,action,target,requestId');
    expect(lines.slice(1).map((l) => l.split(',')[2])).toEqual(['member.add', 'member.remove', 'member.add']);
    const jsonl = await owner('GET', '/api/team/audit?format=jsonl');
    const entries = jsonl.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(entries.every((e) => e.projectId === '_team' && e.actor === 'olga')).toBe(true);
    const lena = (await issuer.login('lena', (await owner('POST', '/api/team/password-resets', { userId: 'lena' })).json.temporaryPassword)).idToken;
    expect((await call(lena, 'GET', `/api/projects/${PROJECT}/audit`)).status).toBe(403);
  });
});
