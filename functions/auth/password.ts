// Passwords exist only as slow, salted scrypt hashes. The policy is the Cognito pool's (infra/constructs/auth.ts),
// so a password that works locally would also be accepted in the cloud.

import { randomBytes, randomInt, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface PasswordHash {
  scheme: 'scrypt';
  /** Cost parameters are stored with each hash so they can be raised later without breaking old ones. */
  N: number;
  r: number;
  p: number;
  salt: string;
  hash: string;
}

const COST = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 64;
// 128 * N * r bytes = 32 MiB at N = 2^15, exactly Node's default limit; leave headroom.
const MAX_MEM = 64 * 1024 * 1024;

export const PASSWORD_POLICY =
  'at least 12 characters with a lowercase letter, an uppercase letter, a digit and a symbol (at most 256)';

/** What a password lacks under the policy; empty when it is acceptable. */
export function passwordProblems(password: string): string[] {
  const problems: string[] = [];
  if (password.length < 12) problems.push('at least 12 characters');
  if (password.length > 256) problems.push('at most 256 characters');
  if (!/\p{Ll}/u.test(password)) problems.push('a lowercase letter');
  if (!/\p{Lu}/u.test(password)) problems.push('an uppercase letter');
  if (!/\p{N}/u.test(password)) problems.push('a digit');
  if (!/[^\p{L}\p{N}\s]/u.test(password)) problems.push('a symbol');
  return problems;
}

function derive(password: string, salt: Buffer, cost: ScryptOptions & { N: number }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, { ...cost, maxmem: MAX_MEM }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<PasswordHash> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, COST);
  return { scheme: 'scrypt', ...COST, salt: salt.toString('base64'), hash: hash.toString('base64') };
}

export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64');
  const actual = await derive(password, Buffer.from(stored.salt, 'base64'), stored);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A hash of a random password: unknown users are checked against it so they cost the same time as known ones. */
let decoy: Promise<PasswordHash> | undefined;
export const decoyHash = () => (decoy ??= hashPassword(randomBytes(24).toString('base64')));

const CLASSES = ['abcdefghijkmnopqrstuvwxyz', 'ABCDEFGHJKLMNPQRSTUVWXYZ', '23456789', '-_.!@#%+='];

/** A random 20-character password that meets the policy, for the CLI to print once. */
export function generatePassword(length = 20): string {
  const all = CLASSES.join('');
  const chars = CLASSES.map((set) => set[randomInt(set.length)]);
  while (chars.length < length) chars.push(all[randomInt(all.length)]);
  // Fisher-Yates, so the guaranteed characters are not always first.
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  return chars.join('');
}
