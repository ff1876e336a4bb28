// The local issuer's users: `<dataDir>/auth/users.json`, mode 0600, passwords only as scrypt hashes.
// The server reads the file at each sign-in, so users added by the CLI can sign in without a restart.

import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { WinnowError } from '../domain/errors.js';
import { authDir, ensureAuthDir, writeSecretFile } from './files.js';
import { GROUPS, isGroup, type Group } from './groups.js';
import { hashPassword, PASSWORD_POLICY, passwordProblems, type PasswordHash } from './password.js';

export interface LocalUser {
  /** Sign-in name and the API's userId (`cognito:username`): trimmed, lowercase. */
  username: string;
  /** Stable random id, the token's `sub`. */
  sub: string;
  groups: Group[];
  /** Set by an owner (team page): refused at sign-in, and every token it holds is refused on every request. */
  disabled?: boolean;
  /** Where an invitation could be sent (kept for the team page; the local issuer sends no mail). */
  email?: string;
  createdAt: string;
  updatedAt: string;
}

export interface StoredUser extends LocalUser {
  password: PasswordHash;
}

interface UsersFile {
  version: 1;
  users: StoredUser[];
}

export interface NewUser {
  username: string;
  password: string;
  /** Default: ['labeler']. */
  groups?: Group[];
  email?: string;
}

const USERNAME = /^[\p{L}\p{N}_.@-]{1,64}$/u;
export const USERNAME_RULE = '1-64 letters, digits, _ . @ - (no spaces); case-insensitive';

export const usersFile = (dataDir: string) => path.join(authDir(dataDir), 'users.json');

export function normalizeUsername(raw: string): string {
  return raw.trim().normalize('NFC').toLowerCase();
}

function validUsername(raw: string): string {
  const username = normalizeUsername(raw);
  if (!USERNAME.test(username)) {
    throw new WinnowError('bad_request', `user name "${raw}" is not allowed: ${USERNAME_RULE}`, { field: 'username' });
  }
  return username;
}

function validPassword(password: string): void {
  const missing = passwordProblems(password);
  if (missing.length > 0) {
    throw new WinnowError('bad_request', `the password needs ${missing.join(', ')} (policy: ${PASSWORD_POLICY})`, {
      field: 'password',
    });
  }
}

function validGroups(groups: readonly string[]): Group[] {
  const bad = groups.filter((g) => !isGroup(g));
  if (bad.length > 0 || groups.length === 0) {
    throw new WinnowError('bad_request', `groups must be one or more of ${Object.values(GROUPS).join(', ')}`, {
      field: 'groups',
    });
  }
  return [...new Set(groups as Group[])];
}

async function load(dataDir: string): Promise<UsersFile> {
  let text: string;
  try {
    text = await readFile(usersFile(dataDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, users: [] };
    throw err;
  }
  const parsed = JSON.parse(text) as UsersFile;
  if (parsed?.version !== 1 || !Array.isArray(parsed.users)) {
    throw new WinnowError('internal', `${usersFile(dataDir)} is not a Winnow users file`);
  }
  return parsed;
}

// Read-modify-write is serialized within the process; the CLI and the server rarely write at the same moment.
let queue: Promise<unknown> = Promise.resolve();
function update<T>(dataDir: string, change: (file: UsersFile) => Promise<T>): Promise<T> {
  const run = queue.then(async () => {
    const file = await load(dataDir);
    const result = await change(file);
    await ensureAuthDir(dataDir);
    await writeSecretFile(usersFile(dataDir), `${JSON.stringify(file, null, 2)}\n`);
    return result;
  });
  queue = run.catch(() => undefined);
  return run;
}

const publicView = ({ password: _password, ...user }: StoredUser): LocalUser => user;

function existing(file: UsersFile, raw: string): StoredUser {
  const user = file.users.find((u) => u.username === normalizeUsername(raw));
  if (!user) throw new WinnowError('not_found', `no user named "${raw}"`);
  return user;
}

export async function findUser(dataDir: string, username: string): Promise<StoredUser | undefined> {
  const name = normalizeUsername(username);
  return (await load(dataDir)).users.find((u) => u.username === name);
}

export async function listUsers(dataDir: string): Promise<LocalUser[]> {
  return (await load(dataDir)).users.map(publicView);
}

export async function addUser(dataDir: string, input: NewUser): Promise<LocalUser> {
  const username = validUsername(input.username);
  validPassword(input.password);
  const groups = validGroups(input.groups ?? [GROUPS.labeler]);
  return update(dataDir, async (file) => {
    if (file.users.some((u) => u.username === username)) {
      throw new WinnowError('conflict', `a user named "${username}" already exists; use set-password to change it`);
    }
    const now = new Date().toISOString();
    const user: StoredUser = {
      username,
      sub: randomUUID(),
      groups,
      ...(input.email ? { email: input.email } : {}),
      createdAt: now,
      updatedAt: now,
      password: await hashPassword(input.password),
    };
    file.users.push(user);
    return publicView(user);
  });
}

export async function setPassword(dataDir: string, username: string, password: string): Promise<void> {
  validPassword(password);
  await update(dataDir, async (file) => {
    const user = existing(file, username);
    user.password = await hashPassword(password);
    user.updatedAt = new Date().toISOString();
  });
}

export async function setGroups(dataDir: string, username: string, groups: Group[]): Promise<LocalUser> {
  const valid = validGroups(groups);
  return update(dataDir, async (file) => {
    const user = existing(file, username);
    user.groups = valid;
    user.updatedAt = new Date().toISOString();
    return publicView(user);
  });
}

export async function setDisabled(dataDir: string, username: string, disabled: boolean): Promise<LocalUser> {
  return update(dataDir, async (file) => {
    const user = existing(file, username);
    if (disabled) user.disabled = true;
    else delete user.disabled;
    user.updatedAt = new Date().toISOString();
    return publicView(user);
  });
}

export async function removeUser(dataDir: string, username: string): Promise<void> {
  await update(dataDir, async (file) => {
    const user = existing(file, username);
    file.users = file.users.filter((u) => u !== user);
  });
}
