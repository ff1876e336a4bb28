// The per-request account check without a Cognito call per request (issue 16): the API checks each request against
// the account state the team routes keep in the bucket (functions/auth/account-states.ts), on the in-memory stores,
// with the Cognito directory adapter over a counting stand-in of Cognito's API at its port (CognitoCall). Before:
// two Cognito calls on every request; now none once a user's state is stored, and still: a user disabled through
// the app gets 401 on their very next request (in another API instance too), a demoted owner loses owner routes at
// once, a member removed from a project is refused at once, and a change made in Cognito directly counts once the
// stored state is older than the recheck time.

import { beforeEach, describe, expect, it } from 'vitest';
import { cognitoDirectory, type CognitoCall } from '../../functions/adapters/aws/cognito-directory.js';
import { createMemoryStores, type MemoryStores } from '../../functions/adapters/memory/index.js';
import { createApp } from '../../functions/api/app.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import type { Authenticate } from '../../functions/api/types.js';
import { blobAccountStates, withStoredAccounts } from '../../functions/auth/account-states.js';
import { withCurrentAccount } from '../../functions/auth/current-account.js';
import { createProject } from '../../functions/domain/projects.js';
import type { UserDirectory } from '../../functions/domain/team.js';
import { ManualClock } from '../support/fixtures.js';

const POOL = 'eu-west-1_TeamPool1';

/** Cognito's user-pool actions the adapter uses, in memory, counting every call. */
function countingPool(users: Record<string, { owner: boolean }>) {
  const pool = new Map(Object.entries(users).map(([name, u]) => [name, { enabled: true, groups: new Set([u.owner ? 'admin' : 'labeler']) }]));
  const calls: string[] = [];
  const call: CognitoCall = async (action, input) => {
    calls.push(action);
    const name = input.Username as string;
    const user = pool.get(name);
    const view = () => ({ Username: name, Enabled: user!.enabled, UserStatus: 'CONFIRMED', Attributes: [] });
    if (action === 'ListUsers') return { Users: [...pool.keys()].map((n) => ({ Username: n, Enabled: pool.get(n)!.enabled })) };
    if (action === 'ListUsersInGroup') return { Users: [...pool].filter(([, u]) => u.groups.has(input.GroupName as string)).map(([n]) => ({ Username: n })) };
    if (!user) throw Object.assign(new Error(`Cognito ${action}: User does not exist.`), { type: 'UserNotFoundException' });
    switch (action) {
      case 'AdminGetUser':
        return { ...view(), UserAttributes: [] };
      case 'AdminListGroupsForUser':
        return { Groups: [...user.groups].map((GroupName) => ({ GroupName })) };
      case 'AdminAddUserToGroup':
        user.groups.add(input.GroupName as string);
        return {};
      case 'AdminRemoveUserFromGroup':
        user.groups.delete(input.GroupName as string);
        return {};
      case 'AdminDisableUser':
      case 'AdminEnableUser':
        user.enabled = action === 'AdminEnableUser';
        return {};
      case 'AdminUserGlobalSignOut':
        return {};
      default:
        throw new Error(`not in this stand-in: ${action}`);
    }
  };
  return { call, calls, pool };
}

/** A verified token: x-user, with the groups it was issued with (x-group). */
const token: Authenticate = async (req) => ({ userId: req.headers.get('x-user')!, groups: [req.headers.get('x-group') ?? 'labeler'] });

describe('the per-request account check', () => {
  let stores: MemoryStores;
  let clock: ManualClock;
  let cognito: ReturnType<typeof countingPool>;

  const appWith = (team: UserDirectory) => createApp({ stores, featureVectors: shardFeatureVectors(stores.blobs, stores.clock), team, authenticate: withCurrentAccount(token, team, { roles: 'narrow' }) });
  const stored = () => withStoredAccounts(cognitoDirectory({ userPoolId: POOL, call: cognito.call }), blobAccountStates(stores.blobs), { clock });
  const as = (user: string, group = 'labeler') => ({ 'x-user': user, 'x-group': group });
  async function status(app: ReturnType<typeof appWith>, path: string, headers: Record<string, string>, method = 'GET', body?: unknown) {
    const res = await app.request(path, { method, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    return res.status;
  }
  /** Cognito calls made by `requests` requests of lars to his project. */
  async function callsPer(app: ReturnType<typeof appWith>, requests: number) {
    const before = cognito.calls.length;
    for (let i = 0; i < requests; i++) expect(await status(app, '/api/projects/garden', as('lars'))).toBe(200);
    return (cognito.calls.length - before) / requests;
  }

  beforeEach(async () => {
    clock = new ManualClock();
    stores = createMemoryStores(clock);
    cognito = countingPool({ olga: { owner: true }, otto: { owner: true }, lars: { owner: false } });
    await createProject(stores, { id: 'garden', classes: ['daisy', 'rose'], members: ['lars'] }, 'olga');
  });

  it('before: the Cognito directory alone costs two calls on every request', async () => {
    const app = appWith(cognitoDirectory({ userPoolId: POOL, call: cognito.call }));
    expect(await callsPer(app, 10)).toBe(2);
  });

  it('now: two calls on a user\'s first request, none on the next ones (in any API instance)', async () => {
    const app = appWith(stored());
    expect(await callsPer(app, 1)).toBe(2);
    expect(await callsPer(app, 10)).toBe(0);
    expect(await callsPer(appWith(stored()), 10)).toBe(0); // another instance: same stored state
  });

  it('a user disabled through the app gets 401 on their very next request, in every instance, without a Cognito call', async () => {
    const app = appWith(stored());
    const other = appWith(stored());
    expect(await callsPer(app, 1)).toBe(2);
    expect(await status(app, '/api/team/users', as('olga', 'admin'), 'PATCH', { userId: 'lars', enabled: false })).toBe(200);
    expect(cognito.pool.get('lars')!.enabled).toBe(false); // Cognito stays the source of sign-in
    const before = cognito.calls.length;
    expect(await status(app, '/api/projects/garden', as('lars'))).toBe(401);
    expect(await status(other, '/api/projects/garden', as('lars'))).toBe(401);
    expect(cognito.calls.length - before).toBe(0);
    expect(await status(other, '/api/team/users', as('olga', 'admin'), 'PATCH', { userId: 'lars', enabled: true })).toBe(200);
    expect(await status(app, '/api/projects/garden', as('lars'))).toBe(200);
  });

  it('an owner demoted through the app loses owner routes on the next request, though the token still says admin', async () => {
    const app = appWith(stored());
    expect(await status(app, '/api/team/users', as('otto', 'admin'))).toBe(200);
    expect(await status(app, '/api/team/users', as('olga', 'admin'), 'PATCH', { userId: 'otto', role: 'labeler' })).toBe(200);
    expect(await status(app, '/api/team/users', as('otto', 'admin'))).toBe(403);
  });

  it('a member removed from a project is refused there on the next request, without a Cognito call', async () => {
    const app = appWith(stored());
    expect(await callsPer(app, 1)).toBe(2);
    expect(await status(app, '/api/projects/garden/members', as('olga', 'admin'), 'DELETE', { userId: 'lars' })).toBe(200);
    const before = cognito.calls.length;
    expect([403, 404]).toContain(await status(app, '/api/projects/garden', as('lars')));
    expect(cognito.calls.length - before).toBe(0);
  });

  it('a user disabled in Cognito directly (console, CLI) is refused once the stored state is older than the recheck time (5 min)', async () => {
    const app = appWith(stored());
    expect(await callsPer(app, 1)).toBe(2);
    cognito.pool.get('lars')!.enabled = false;
    clock.advance(4 * 60_000);
    expect(await status(app, '/api/projects/garden', as('lars'))).toBe(200);
    clock.advance(60_000);
    expect(await status(app, '/api/projects/garden', as('lars'))).toBe(401);
  });

  it('a user removed from the pool is refused (401), and the refusal is stored too', async () => {
    const app = appWith(stored());
    cognito.pool.delete('lars');
    expect(await status(app, '/api/projects/garden', as('lars'))).toBe(401);
    const before = cognito.calls.length;
    expect(await status(app, '/api/projects/garden', as('lars'))).toBe(401);
    expect(cognito.calls.length - before).toBe(0);
  });
});
