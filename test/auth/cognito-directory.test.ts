// The Cognito directory adapter against a stand-in of Cognito's JSON API (a small in-memory user pool served over
// HTTP, as the pool answers these actions): requests are SigV4-signed for cognito-idp; invitations create the user
// and put them in their role's group; promotion, demotion, disabling and resets call the documented actions; and
// the per-request check refuses a disabled user and narrows a demoted owner's token at once, while a promotion
// waits for the next token (the role a Cognito token carries is never widened by the API).

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cognitoDirectory, signedCognito } from '../../functions/adapters/aws/cognito-directory.js';
import { withCurrentAccount } from '../../functions/auth/current-account.js';
import type { Identity } from '../../functions/api/types.js';

const POOL = 'eu-west-1_TeamPool1';

interface PoolUser { Username: string; Enabled: boolean; UserStatus: string; Attributes: { Name: string; Value: string }[]; groups: Set<string> }

describe('Cognito user pool as the team directory', () => {
  let server: Server;
  let endpoint: string;
  const users = new Map<string, PoolUser>();
  const calls: { action: string; auth: string; body: any }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (d) => (text += d));
      req.on('end', () => {
        const action = String(req.headers['x-amz-target']).replace('AWSCognitoIdentityProviderService.', '');
        const body = JSON.parse(text);
        calls.push({ action, auth: String(req.headers.authorization), body });
        const fail = (type: string, message: string) => {
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify({ __type: type, message }));
        };
        const ok = (out: unknown) => {
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify(out));
        };
        if (body.UserPoolId !== POOL) return fail('ResourceNotFoundException', 'no such pool');
        const user = users.get(body.Username);
        const view = (u: PoolUser) => ({ Username: u.Username, Enabled: u.Enabled, UserStatus: u.UserStatus, Attributes: u.Attributes });
        switch (action) {
          case 'AdminCreateUser': {
            if (user) return fail('UsernameExistsException', 'User account already exists');
            const made = { Username: body.Username, Enabled: true, UserStatus: 'FORCE_CHANGE_PASSWORD', Attributes: body.UserAttributes, groups: new Set<string>() };
            users.set(made.Username, made);
            return ok({ User: view(made) });
          }
          case 'ListUsers':
            return ok({ Users: [...users.values()].map(view) });
          case 'ListUsersInGroup':
            return ok({ Users: [...users.values()].filter((u) => u.groups.has(body.GroupName)).map(view) });
        }
        if (!user) return fail('UserNotFoundException', 'User does not exist.');
        switch (action) {
          case 'AdminGetUser':
            return ok({ ...view(user), UserAttributes: user.Attributes });
          case 'AdminListGroupsForUser':
            return ok({ Groups: [...user.groups].map((GroupName) => ({ GroupName })) });
          case 'AdminAddUserToGroup':
            user.groups.add(body.GroupName);
            return ok({});
          case 'AdminRemoveUserFromGroup':
            user.groups.delete(body.GroupName);
            return ok({});
          case 'AdminDisableUser':
          case 'AdminEnableUser':
            user.Enabled = action === 'AdminEnableUser';
            return ok({});
          case 'AdminUserGlobalSignOut':
          case 'AdminResetUserPassword':
            return ok({});
          default:
            return fail('InvalidAction', action);
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const directory = () =>
    cognitoDirectory({ userPoolId: POOL, call: signedCognito('eu-west-1', async () => ({ accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }), endpoint) });
  /** The API's authenticate for a token that says `groups`, checked against the pool. */
  const asToken = (userId: string, groups: string[]) =>
    withCurrentAccount(async (): Promise<Identity> => ({ userId, groups }), directory(), { roles: 'narrow' })(new Request('http://x/'));

  it('invites by email into the role group, signed for cognito-idp', async () => {
    const invited = await directory().invite({ userId: 'bob@example.org', email: 'bob@example.org', role: 'labeler' });
    expect(invited).toMatchObject({ delivery: 'email', account: { userId: 'bob@example.org', role: 'labeler', enabled: true, email: 'bob@example.org', status: 'FORCE_CHANGE_PASSWORD' } });
    expect(invited.temporaryPassword).toBeUndefined(); // Cognito mails it; the API never sees it
    const create = calls.find((c) => c.action === 'AdminCreateUser')!;
    expect(create.auth).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/eu-west-1\/cognito-idp\/aws4_request/);
    expect(create.body).toMatchObject({ DesiredDeliveryMediums: ['EMAIL'], UserAttributes: [{ Name: 'email', Value: 'bob@example.org' }, { Name: 'email_verified', Value: 'true' }] });
    expect(calls.find((c) => c.action === 'AdminAddUserToGroup')!.body).toMatchObject({ Username: 'bob@example.org', GroupName: 'labeler' });
    await expect(directory().invite({ userId: 'bob@example.org', role: 'labeler' })).rejects.toMatchObject({ code: 'conflict' });
  });

  it('lists users with their roles; promotes and demotes through the groups', async () => {
    await directory().setRole('bob@example.org', 'owner');
    expect(users.get('bob@example.org')!.groups).toEqual(new Set(['admin']));
    expect((await directory().list()).find((a) => a.userId === 'bob@example.org')).toMatchObject({ role: 'owner' });
    // A promotion waits for the next token; a demotion counts at once.
    expect((await asToken('bob@example.org', ['labeler'])).groups).toEqual(['labeler']);
    expect((await asToken('bob@example.org', ['admin'])).groups).toEqual(['admin']);
    await directory().setRole('bob@example.org', 'labeler');
    expect((await asToken('bob@example.org', ['admin'])).groups).toEqual(['labeler']);
  });

  it('a disabled or unknown user is refused on the next request; disabling also signs them out', async () => {
    const before = calls.length;
    await directory().setEnabled('bob@example.org', false);
    expect(calls.slice(before).map((c) => c.action).slice(0, 2)).toEqual(['AdminDisableUser', 'AdminUserGlobalSignOut']);
    await expect(asToken('bob@example.org', ['labeler'])).rejects.toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/disabled/) });
    await directory().setEnabled('bob@example.org', true);
    await expect(asToken('bob@example.org', ['labeler'])).resolves.toMatchObject({ userId: 'bob@example.org' });
    await expect(asToken('nobody@example.org', ['admin'])).rejects.toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/no longer exists/) });
    await expect(directory().resetPassword('nobody@example.org')).rejects.toMatchObject({ code: 'not_found' });
    await expect(directory().resetPassword('bob@example.org')).resolves.toEqual({ delivery: 'email' });
  });
});
