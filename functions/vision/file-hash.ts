// sha256 of model files, streamed, with a cache keyed by (path, size, mtime) kept in memory and in a small JSON
// file, so a restarted process does not re-hash unchanged models.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

type CacheEntries = Record<string, string>;

const memory = new Map<string, CacheEntries>();

/** Default on-disk cache: the temp dir is writable everywhere, Lambda included. */
export function defaultHashCacheFile(): string {
  return path.join(os.tmpdir(), 'winnow-model-hashes.json');
}

export function sha256OfStream(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file, { highWaterMark: 1 << 20 })
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

async function readCache(cacheFile: string): Promise<CacheEntries> {
  const cached = memory.get(cacheFile);
  if (cached) return cached;
  let entries: CacheEntries = {};
  try {
    entries = JSON.parse(await readFile(cacheFile, 'utf8')) as CacheEntries;
  } catch {
    // No cache yet, or unreadable: hash again.
  }
  memory.set(cacheFile, entries);
  return entries;
}

/**
 * sha256 of a file, from the cache when its path, size and mtime are unchanged. `cacheFile: false` keeps the
 * cache in memory only. The file must exist (callers stat it first).
 */
export async function cachedSha256(file: string, cacheFile: string | false = defaultHashCacheFile()): Promise<string> {
  const info = await stat(file);
  const key = `${path.resolve(file)}|${info.size}|${info.mtimeMs}`;
  const entries = await readCache(cacheFile || ':memory:');
  const hit = entries[key];
  if (hit) return hit;
  const digest = await sha256OfStream(file);
  entries[key] = digest;
  if (cacheFile) {
    try {
      // Write then rename: processes starting together never read a half-written cache.
      await mkdir(path.dirname(cacheFile), { recursive: true });
      const partial = `${cacheFile}.${process.pid}.tmp`;
      await writeFile(partial, JSON.stringify(entries));
      await rename(partial, cacheFile);
    } catch {
      // A read-only disk only costs a re-hash on the next start.
    }
  }
  return digest;
}
