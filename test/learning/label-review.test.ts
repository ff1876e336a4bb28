import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../bench/lib/csv.js';
import type { BenchDataset } from '../bench/lib/dataset.js';
import { defaultReviewPath, loadLabelReview } from '../bench/lib/label-review.js';
import { FLOWERS, REPO } from '../support/paths.js';

const dataset = (files: string[]): BenchDataset => ({
  name: 'tiny',
  classes: ['a', 'b'],
  vectors: files.map(() => new Float32Array(2)),
  labels: Int32Array.from(files, (_, i) => i % 2),
  files,
});

describe('label review (bench:al reviewed false flags)', () => {
  it('maps the listed files to dataset rows and refuses a file the dataset does not have', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'winnow-review-'));
    const file = path.join(dir, 'tiny.csv');
    await writeFile(file, 'path,finding\nb/2.jpg,a car; no flower\n');
    const review = await loadLabelReview(dataset(['a/1.jpg', 'b/2.jpg', 'a/3.jpg']), file);
    expect([...review.wrong]).toEqual([1]);
    await writeFile(file, 'path,finding\nb/9.jpg,gone\n');
    await expect(loadLabelReview(dataset(['a/1.jpg', 'b/2.jpg']), file)).rejects.toThrow(/"b\/9.jpg" is not an image of tiny/);
  });

  it("tf_flowers_dev's review names train images of the shared dataset, each with a finding", () => {
    const file = defaultReviewPath({ ...dataset([]), name: 'tf_flowers_dev' });
    expect(file).toBe(path.join(REPO, 'test/fixtures/label-review/tf_flowers_dev.csv'));
    const rows = parseCsv(readFileSync(file!, 'utf8'));
    expect(rows.length).toBe(13);
    const split = new Map(parseCsv(readFileSync(path.join(FLOWERS, 'labels.csv'), 'utf8')).map((r) => [r.path, r.split]));
    for (const r of rows) {
      expect(r.finding.length, r.path).toBeGreaterThan(5);
      expect(split.get(r.path), r.path).toBe('train');
      expect(existsSync(path.join(FLOWERS, r.path)), r.path).toBe(true);
    }
  });
});
