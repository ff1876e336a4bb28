// `npm start` serves the built web app; build it first when the sources are newer than the build.

import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './config.js';
import type { Log } from '../domain/ports.js';

export const WEB_DIST = path.join(REPO_ROOT, 'web/dist');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

export function webBuildIsStale(): boolean {
  const index = path.join(WEB_DIST, 'index.html');
  if (!existsSync(index)) return true;
  const sources = Math.max(newestMtime(path.join(REPO_ROOT, 'web/src')), statSync(path.join(REPO_ROOT, 'web/index.html')).mtimeMs);
  return sources > statSync(index).mtimeMs;
}

export async function buildWeb(log: Log): Promise<void> {
  const started = performance.now();
  const { build } = await import('vite');
  await build({ configFile: path.join(REPO_ROOT, 'web/vite.config.ts'), logLevel: 'warn' });
  log(`built the web app in ${Math.round(performance.now() - started)} ms`);
}
