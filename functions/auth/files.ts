// Where the local issuer keeps its secrets, and how they are written: inside `<dataDir>/auth/`, readable by the
// owner only, replaced atomically so a crash never leaves half a key or half a users file.

import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const authDir = (dataDir: string) => path.join(path.resolve(dataDir), 'auth');

export async function ensureAuthDir(dataDir: string): Promise<string> {
  const dir = authDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir leaves an existing folder's mode alone; tighten it in case it was made by hand.
  await chmod(dir, 0o700);
  return dir;
}

/** Writes `content` to `file` with mode 0600 through a temporary file and a rename. */
export async function writeSecretFile(file: string, content: string): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, content, { mode: 0o600, flag: 'wx' });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Creates `file` (mode 0600) only if it does not exist yet; false when another process got there first.
 * A hard link is atomic and refuses to replace, so two first starts never end up with different keys.
 */
export async function createSecretFileOnce(file: string, content: string): Promise<boolean> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, content, { mode: 0o600, flag: 'wx' });
  try {
    await link(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(tmp, { force: true });
  }
}
