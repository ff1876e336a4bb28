// The account state each request is checked against (withCurrentAccount), kept in the data bucket instead of asked
// of the user directory on every request. With Cognito that check was two Admin calls per request (AdminGetUser,
// AdminListGroupsForUser), which count against the pool's per-account request quota for user reads and add their
// latency to every label save; now it is one read of `accounts/<user>.json` and no Cognito call.
//
// Cognito stays the source of sign-in and of the account: tokens are issued only to its enabled users. Owners
// change accounts through the team routes, which change the directory and then the stored state in the same request
// (marked stale first, so a failure half-way makes the next request ask the directory), so a disable or demotion
// counts on the user's very next request, in every API instance. A change made outside the app (the AWS console,
// the CLI) counts once the stored state is older than `recheckMs` (default 5 minutes): then the directory is asked
// again. Project membership is unchanged: it is the project record's member list, read with the project.

import type { BlobStore, Clock } from '../domain/ports.js';
import type { Account, UserDirectory } from '../domain/team.js';

export const ACCOUNTS_PREFIX = 'accounts/';
const keyOf = (userId: string) => `${ACCOUNTS_PREFIX}${encodeURIComponent(userId)}.json`;

/** What was last learned of a user: their account, or none (no such user), and when it was read or written. */
export interface AccountState {
  userId: string;
  account?: Account;
  /** Epoch ms; 0 marks the state stale (a change under way). */
  checkedAt: number;
}

export interface AccountStates {
  get(userId: string): Promise<AccountState | undefined>;
  put(state: AccountState): Promise<void>;
}

/** Account states as small objects in the bucket (S3 reads after writes are strongly consistent). */
export function blobAccountStates(blobs: BlobStore): AccountStates {
  return {
    async get(userId) {
      const stored = await blobs.get(keyOf(userId));
      if (!stored) return undefined;
      try {
        return JSON.parse(Buffer.from(stored.body).toString('utf8')) as AccountState;
      } catch {
        return undefined; // unreadable: ask the directory again
      }
    },
    async put(state) {
      await blobs.put(keyOf(state.userId), Buffer.from(JSON.stringify(state)), 'application/json');
    },
  };
}

export interface StoredAccountOptions {
  clock: Clock;
  /** How old a stored state may be before the directory is asked again. @default 5 minutes */
  recheckMs?: number;
}

/** The directory with `get` answered from the stored states, and every change written through to them. */
export function withStoredAccounts(directory: UserDirectory, states: AccountStates, options: StoredAccountOptions): UserDirectory {
  const recheckMs = options.recheckMs ?? 5 * 60_000;
  const now = () => options.clock.now();
  const remember = async (userId: string, account: Account | undefined) => {
    await states.put({ userId, ...(account ? { account } : {}), checkedAt: now() });
    return account;
  };
  /** Marks the stored state stale (a stale state is never answered from, so it keeps no account), makes the change, stores its outcome. */
  const change = async (userId: string, make: () => Promise<Account>): Promise<Account> => {
    await states.put({ userId, checkedAt: 0 });
    const account = await make();
    await remember(account.userId, account);
    return account;
  };
  return {
    list: () => directory.list(),
    async get(userId) {
      const state = await states.get(userId);
      if (state && state.checkedAt > 0 && now() - state.checkedAt < recheckMs) return state.account;
      return remember(userId, await directory.get(userId));
    },
    async invite(input) {
      const invited = await directory.invite(input);
      await remember(invited.account.userId, invited.account);
      return invited;
    },
    setRole: (userId, role) => change(userId, () => directory.setRole(userId, role)),
    setEnabled: (userId, enabled) => change(userId, () => directory.setEnabled(userId, enabled)),
    resetPassword: (userId) => directory.resetPassword(userId),
  };
}
