// The ingest image bakes the ONNX weights in from a folder outside the repository (a named Docker build context).
// Docker asset hashes only cover the repository folder, so the weights' content hash is added explicitly: new
// weights -> new image, same weights -> same hash on every machine (no timestamps, no absolute paths).

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export interface ModelWeights {
  /** Absolute folder passed to `docker build --build-context model-weights=<dir>`. */
  dir: string;
  /** sha256 over every file's relative path and bytes, in sorted order. */
  contentHash: string;
}

/** Returns undefined when the folder does not exist (the image then ships without weights; ingest reports it). */
export function readModelWeights(dir: string): ModelWeights | undefined {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return undefined;
  const hash = createHash('sha256');
  for (const file of listFiles(dir)) {
    hash.update(relative(dir, file).split(sep).join('/'));
    hash.update('\0');
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  return { dir, contentHash: hash.digest('hex') };
}

function listFiles(dir: string): string[] {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  return entries.flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return listFiles(path);
    return e.isFile() ? [path] : [];
  });
}
