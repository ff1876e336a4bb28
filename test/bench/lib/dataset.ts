// A labeled dataset for the active-learning bench: embeddings, true classes and an optional given split.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, extname, relative, resolve, sep } from 'node:path';
import { parseCsv } from './csv.js';
import { createBenchEmbedder, embedFiles } from './embed-dataset.js';
import { readNpy } from './npy.js';

export interface BenchDataset {
  name: string;
  classes: string[];
  /** Row-major embeddings, one row per sample. */
  vectors: Float32Array[];
  labels: Int32Array;
  /** 'train' / 'test' per sample when the dataset names a split. */
  split?: string[];
  /** Image datasets: each sample's file, relative to the dataset folder ('/'-separated). */
  files?: string[];
}

const IMAGE = /\.(jpe?g|png|webp|gif|tiff?|avif|bmp)$/i;

/** A folder per class, optionally with a `labels.csv` (path, label[, split]) that names the files and split. */
export async function loadImageDataset(dir: string, modelDir: string): Promise<BenchDataset> {
  let entries: { path: string; label: string; split?: string }[];
  const csvPath = resolve(dir, 'labels.csv');
  if (existsSync(csvPath)) {
    entries = parseCsv(await readFile(csvPath, 'utf8')).map((r) => ({ path: resolve(dir, r.path), label: r.label, split: r.split || undefined }));
  } else {
    entries = readdirSync(dir)
      .filter((d) => statSync(resolve(dir, d)).isDirectory() && !d.startsWith('.'))
      .sort()
      .flatMap((cls) =>
        readdirSync(resolve(dir, cls))
          .filter((f) => IMAGE.test(f))
          .sort()
          .map((f) => ({ path: resolve(dir, cls, f), label: cls })),
      );
  }
  if (entries.length === 0) throw new Error(`no images found in ${dir} (expected a folder per class)`);
  const embedder = await createBenchEmbedder(modelDir);
  const vectors = await embedFiles(entries.map((e) => e.path), embedder);
  const files = entries.map((e) => relative(dir, e.path).split(sep).join('/'));
  return { ...withClasses(basename(dir), vectors, entries.map((e) => e.label), entries.map((e) => e.split)), files };
}

/** `--features file.npy --labels file.csv`: the CSV has a `label` column (and optionally `split`), one row per matrix row. */
export async function loadFeatureDataset(npyPath: string, csvPath: string): Promise<BenchDataset> {
  const m = await readNpy(npyPath);
  const rows = parseCsv(await readFile(csvPath, 'utf8'));
  if (rows.length !== m.rows) throw new Error(`${csvPath} has ${rows.length} rows but ${npyPath} has ${m.rows}`);
  if (rows.length > 0 && !('label' in rows[0])) throw new Error(`${csvPath} needs a "label" column`);
  const vectors = Array.from({ length: m.rows }, (_, i) => m.data.subarray(i * m.cols, (i + 1) * m.cols));
  return withClasses(basename(npyPath, extname(npyPath)), vectors, rows.map((r) => r.label), rows.map((r) => r.split || undefined));
}

function withClasses(name: string, vectors: Float32Array[], names: string[], split: (string | undefined)[]): BenchDataset {
  const classes = [...new Set(names)].sort();
  const index = new Map(classes.map((c, i) => [c, i]));
  const labels = Int32Array.from(names, (n) => index.get(n)!);
  const hasSplit = split.every((s) => s === 'train' || s === 'test') && split.includes('test');
  return { name, classes, vectors, labels, ...(hasSplit ? { split: split as string[] } : {}) };
}
