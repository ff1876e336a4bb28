// The local issuer's users file as the team's directory (domain/team.ts): owners invite, promote, disable and reset
// passwords from the app. There is no mail server locally, so a temporary password is shown once to the owner who
// asked, to pass on.

import type { Account, Role, UserDirectory } from '../domain/team.js';
import { GROUPS, type Group } from './groups.js';
import { generatePassword } from './password.js';
import { addUser, findUser, listUsers, setDisabled, setGroups, setPassword, type LocalUser } from './users.js';

const roleOf = (groups: readonly string[]): Role => (groups.includes(GROUPS.admin) ? 'owner' : 'labeler');
const groupsOf = (role: Role): Group[] => (role === 'owner' ? [GROUPS.admin] : [GROUPS.labeler]);

function account(user: LocalUser): Account {
  return {
    userId: user.username,
    ...(user.email ? { email: user.email } : {}),
    role: roleOf(user.groups),
    enabled: !user.disabled,
    createdAt: user.createdAt,
  };
}

export function localDirectory(dataDir: string): UserDirectory {
  return {
    list: async () => (await listUsers(dataDir)).map(account),
    get: async (userId) => {
      const user = await findUser(dataDir, userId);
      return user && account(user);
    },
    async invite({ userId, email, role }) {
      const temporaryPassword = generatePassword();
      const user = await addUser(dataDir, { username: userId, password: temporaryPassword, groups: groupsOf(role), email });
      return { account: account(user), temporaryPassword, delivery: 'shown-once' };
    },
    setRole: async (userId, role) => account(await setGroups(dataDir, userId, groupsOf(role))),
    setEnabled: async (userId, enabled) => account(await setDisabled(dataDir, userId, !enabled)),
    async resetPassword(userId) {
      const temporaryPassword = generatePassword();
      await setPassword(dataDir, userId, temporaryPassword);
      return { temporaryPassword, delivery: 'shown-once' };
    },
  };
}
