// `winnow users add NAME [--admin]` / `winnow users list`: local sign-in accounts, stored under the data folder
// with scrypt password hashes. The first admin is created this way.

import path from 'node:path';
import { parseArgs } from 'node:util';
import { generatePassword } from '../auth/password.js';
import { addUser, listUsers } from '../auth/users.js';
import type { CliConfig } from '../local/config.js';

export async function usersCommand(args: string[], cli: Pick<CliConfig, 'dataDir'>): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { admin: { type: 'boolean', default: false }, data: { type: 'string' } },
  });
  const [sub, name] = positionals;
  const dataDir = path.resolve(values.data ?? cli.dataDir);
  if (sub === 'add' && name) {
    const password = generatePassword();
    const user = await addUser(dataDir, { username: name, password, groups: [values.admin ? 'admin' : 'labeler'] });
    console.log(`added ${user.username} (${user.groups.join(', ')}); one-time password: ${password}`);
    console.log('Sign in at the Winnow URL (npm start -- --auth) and keep the password somewhere safe.');
    return 0;
  }
  if (sub === 'list') {
    for (const u of await listUsers(dataDir)) console.log(`${u.username}\t${u.groups.join(',')}\t${u.createdAt}`);
    return 0;
  }
  console.log('usage: npm run winnow -- users add NAME [--admin] [--data DIR] | users list [--data DIR]');
  return 2;
}
