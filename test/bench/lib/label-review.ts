// A person's review of a dataset's labels (test/fixtures/label-review/<dataset>.csv: path, finding): the images
// found not to show their class. bench:al reports the mislabel finder's false flags without them too.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseCsv } from './csv.js';
import type { BenchDataset } from './dataset.js';
import { REPO_ROOT } from './paths.js';

export interface LabelReview {
  file: string;
  /** Dataset rows whose image does not show its class. */
  wrong: ReadonlySet<number>;
}

/** The review of `dataset` kept in the repository, if any (`undefined` for datasets nobody reviewed). */
export function defaultReviewPath(dataset: BenchDataset): string | undefined {
  const file = resolve(REPO_ROOT, 'test/fixtures/label-review', `${dataset.name}.csv`);
  return existsSync(file) ? file : undefined;
}

/** Reads a review; every path it lists must be one of the dataset's files (a stale review fails loudly). */
export async function loadLabelReview(dataset: BenchDataset, file: string): Promise<LabelReview> {
  if (!dataset.files) throw new Error(`a label review needs an image dataset (${dataset.name} has no file names)`);
  const index = new Map(dataset.files.map((f, i) => [f, i]));
  const rows = parseCsv(await readFile(file, 'utf8'));
  const wrong = new Set<number>();
  for (const r of rows) {
    const i = index.get(r.path);
    if (i === undefined) throw new Error(`${file}: "${r.path}" is not an image of ${dataset.name}`);
    wrong.add(i);
  }
  return { file, wrong };
}
