// Where the read-only shared models and datasets live: `WINNOW_SHARED_DIR`, else `../shared` beside the checkout.

import { resolve } from 'node:path';
import { repoRoot } from '../../../functions/repo-root.js';

export const REPO_ROOT = repoRoot();

export function sharedDir(): string {
  return resolve(process.env.WINNOW_SHARED_DIR ?? resolve(REPO_ROOT, '../shared'));
}

export function sharedPath(...parts: string[]): string {
  return resolve(sharedDir(), ...parts);
}
