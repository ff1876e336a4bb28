// The image files of a folder-per-class dataset (named by its labels.csv when present), an evenly spread subset of
// them for quick runs, and a staging copy laid out as an upload folder (the bench uploads exactly that folder).

import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseCsv } from './csv.js';

const IMAGE = /\.(jpe?g|png|webp|gif|tiff?|avif)$/i;

/** Paths relative to `dir`, sorted. */
export async function listDatasetImages(dir: string): Promise<string[]> {
  const csv = path.join(dir, 'labels.csv');
  if (existsSync(csv)) return parseCsv(await readFile(csv, 'utf8')).map((r) => r.path).filter(Boolean).sort();
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && IMAGE.test(e.name))
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

/** `limit` items spread evenly over the list (every class of a sorted folder-per-class list is represented). */
export function evenSubset<T>(items: T[], limit: number): T[] {
  if (limit >= items.length) return items;
  return Array.from({ length: limit }, (_, i) => items[Math.floor((i * items.length) / limit)]);
}

/** Copies the chosen images (keeping their class folders) into `into`, so the upload sends those and nothing else. */
export async function stageImages(dir: string, rels: string[], into: string): Promise<void> {
  await Promise.all(
    rels.map(async (rel) => {
      const target = path.join(into, rel);
      await mkdir(path.dirname(target), { recursive: true });
      await copyFile(path.join(dir, rel), target);
    }),
  );
}
