// A token says who someone was when it was issued; the directory says who they are now. Every request is checked
// against the directory, so disabling an account, removing it or demoting an owner takes effect on the next
// request, not when the token expires (up to an hour later).

import type { Authenticate } from '../api/types.js';
import { WinnowError } from '../domain/errors.js';
import type { UserDirectory } from '../domain/team.js';
import { GROUPS } from './groups.js';

export interface CurrentAccountOptions {
  /**
   * 'directory' (default): the role is the directory's, so a promotion counts at once too. 'narrow': the token's
   * groups narrowed by the directory: a demotion counts at once, a promotion with the next token (Cognito: the role
   * comes from the signed token, the directory only takes away).
   */
  roles?: 'directory' | 'narrow';
}

export function withCurrentAccount(authenticate: Authenticate, directory: UserDirectory, options: CurrentAccountOptions = {}): Authenticate {
  return async (request) => {
    const identity = await authenticate(request);
    const account = await directory.get(identity.userId);
    if (!account) throw new WinnowError('unauthorized', `the account "${identity.userId}" no longer exists; ask an owner`);
    if (!account.enabled) throw new WinnowError('unauthorized', `the account "${identity.userId}" is disabled; ask an owner`);
    const others = identity.groups.filter((g) => g !== GROUPS.admin && g !== GROUPS.labeler);
    const owner = account.role === 'owner' && (options.roles !== 'narrow' || identity.groups.includes(GROUPS.admin));
    return { ...identity, groups: [...others, owner ? GROUPS.admin : GROUPS.labeler] };
  };
}
