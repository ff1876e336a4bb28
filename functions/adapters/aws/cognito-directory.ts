// The Cognito user pool as the team's directory (domain/team.ts): owners invite (AdminCreateUser: Cognito mails a
// temporary password, from the pool's sender or SES), promote and demote (the Admins / Labelers groups), disable
// and enable, and reset passwords (AdminResetUserPassword: Cognito mails a code) from the app. The API reads the
// account on every request (withCurrentAccount), so a disabled or demoted user's ID token stops working at once.
//
// Cognito's JSON API is called with a SigV4-signed fetch: the project has no Cognito SDK client among its
// dependencies (@aws-sdk/client-cognito-identity-provider would replace `signedCognito` one for one).

import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, Provider } from '@smithy/types';
import { WinnowError } from '../../domain/errors.js';
import type { Account, Role, UserDirectory } from '../../domain/team.js';

/** One Cognito API action, e.g. ('AdminGetUser', { UserPoolId, Username }) -> its JSON answer. */
export type CognitoCall = (action: string, input: Record<string, unknown>) => Promise<any>;

/** The Cognito group of each role (infra/constructs/auth.ts names them; the token's `cognito:groups` carries them). */
export const ROLE_GROUPS: Record<Role, string> = { owner: 'admin', labeler: 'labeler' };

export interface CognitoDirectoryOptions {
  userPoolId: string;
  call: CognitoCall;
}

type CognitoUser = { Username: string; Enabled?: boolean; UserStatus?: string; UserCreateDate?: number; Attributes?: { Name: string; Value: string }[]; UserAttributes?: { Name: string; Value: string }[] };

const attr = (u: CognitoUser, name: string) => (u.Attributes ?? u.UserAttributes)?.find((a) => a.Name === name)?.Value;

/** Cognito's errors in the API's words. */
function translate(err: unknown): never {
  const type = (err as { type?: string }).type ?? '';
  const message = (err as Error).message;
  if (type === 'UserNotFoundException') throw new WinnowError('not_found', `no user named in the pool: ${message}`);
  if (type === 'UsernameExistsException') throw new WinnowError('conflict', `a user with that name already exists: ${message}`);
  if (type === 'InvalidParameterException') throw new WinnowError('bad_request', message, { field: 'userId' });
  throw err;
}

export function cognitoDirectory(options: CognitoDirectoryOptions): UserDirectory {
  const { userPoolId: UserPoolId, call } = options;
  const send = (action: string, input: Record<string, unknown>) => call(action, { UserPoolId, ...input }).catch(translate);
  const roleOf = async (Username: string): Promise<Role> => {
    const groups = (await send('AdminListGroupsForUser', { Username, Limit: 60 })).Groups as { GroupName: string }[];
    return groups.some((g) => g.GroupName === ROLE_GROUPS.owner) ? 'owner' : 'labeler';
  };
  const account = (u: CognitoUser, role: Role): Account => {
    const email = attr(u, 'email');
    return {
      userId: u.Username,
      ...(email ? { email } : {}),
      role,
      enabled: u.Enabled !== false,
      ...(u.UserStatus ? { status: u.UserStatus } : {}),
      ...(u.UserCreateDate ? { createdAt: new Date(u.UserCreateDate * 1000).toISOString() } : {}),
    };
  };
  const get = async (userId: string): Promise<Account | undefined> => {
    try {
      const [user, role] = await Promise.all([send('AdminGetUser', { Username: userId }), roleOf(userId)]);
      return account(user, role);
    } catch (err) {
      if (err instanceof WinnowError && err.code === 'not_found') return undefined;
      throw err;
    }
  };
  const must = async (userId: string) => (await get(userId)) ?? translate({ type: 'UserNotFoundException', message: userId });

  return {
    async list() {
      const owners = new Set<string>();
      let NextToken: string | undefined;
      do {
        const page = await send('ListUsersInGroup', { GroupName: ROLE_GROUPS.owner, Limit: 60, ...(NextToken ? { NextToken } : {}) });
        for (const u of page.Users as CognitoUser[]) owners.add(u.Username);
        NextToken = page.NextToken;
      } while (NextToken);
      const out: Account[] = [];
      let PaginationToken: string | undefined;
      do {
        const page = await send('ListUsers', { Limit: 60, ...(PaginationToken ? { PaginationToken } : {}) });
        for (const u of page.Users as CognitoUser[]) out.push(account(u, owners.has(u.Username) ? 'owner' : 'labeler'));
        PaginationToken = page.PaginationToken;
      } while (PaginationToken);
      return out;
    },
    get,
    async invite({ userId, email, role }) {
      const created = await send('AdminCreateUser', {
        Username: userId,
        // Cognito mails the temporary password to the verified address; without one it cannot reach the person.
        DesiredDeliveryMediums: ['EMAIL'],
        UserAttributes: email ? [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }] : [],
      });
      await send('AdminAddUserToGroup', { Username: created.User.Username, GroupName: ROLE_GROUPS[role] });
      return { account: account(created.User, role), delivery: 'email' };
    },
    async setRole(userId, role) {
      const other: Role = role === 'owner' ? 'labeler' : 'owner';
      await send('AdminAddUserToGroup', { Username: userId, GroupName: ROLE_GROUPS[role] });
      await send('AdminRemoveUserFromGroup', { Username: userId, GroupName: ROLE_GROUPS[other] });
      return must(userId);
    },
    async setEnabled(userId, enabled) {
      await send(enabled ? 'AdminEnableUser' : 'AdminDisableUser', { Username: userId });
      // Refresh tokens end too, so the app cannot quietly get a new ID token.
      if (!enabled) await send('AdminUserGlobalSignOut', { Username: userId });
      return must(userId);
    },
    async resetPassword(userId) {
      await send('AdminResetUserPassword', { Username: userId });
      return { delivery: 'email' };
    },
  };
}

class Sha256 {
  private readonly hash;
  constructor(secret?: string | Uint8Array) {
    this.hash = secret ? createHmac('sha256', secret) : createHash('sha256');
  }
  update(data: string | Uint8Array) {
    this.hash.update(data);
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

/** Cognito's JSON 1.1 API over fetch, signed with the function's own credentials (the SDK clients' provider). */
export function signedCognito(region: string, credentials: Provider<AwsCredentialIdentity>, endpoint = `https://cognito-idp.${region}.amazonaws.com/`): CognitoCall {
  const signer = new SignatureV4({ service: 'cognito-idp', region, credentials, sha256: Sha256 as never });
  const url = new URL(endpoint);
  return async (action, input) => {
    const body = JSON.stringify(input);
    const signed = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSCognitoIdentityProviderService.${action}` },
      body,
    });
    const res = await fetch(url, { method: 'POST', headers: signed.headers as Record<string, string>, body });
    const json = (await res.json().catch(() => ({}))) as { __type?: string; message?: string; Message?: string };
    if (!res.ok) {
      const type = (json.__type ?? `Http${res.status}`).split('#').pop() as string;
      throw Object.assign(new Error(`Cognito ${action}: ${json.message ?? json.Message ?? res.status}`), { type });
    }
    return json;
  };
}
