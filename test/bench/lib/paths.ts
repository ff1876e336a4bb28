// Where the read-only shared models and datasets live: `WINNOW_SHARED_DIR`, else `../shared` beside the checkout.

import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export function sharedDir(): string {
  return resolve(process.env.WINNOW_SHARED_DIR ?? resolve(REPO_ROOT, '../shared'));
}

export function sharedPath(...parts: string[]): string {
  return resolve(sharedDir(), ...parts);
}
