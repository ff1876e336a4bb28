// `winnow import-features refs.csv --features features.npy --images DIR --project ID`: bring your own embeddings
// (e.g. DINOv2 computed elsewhere). Checks everything locally first (CSV, matrix, files, classes: every problem
// with its line), uploads the referenced images through the ordinary import (they must be displayable), waits
// for ingest, then posts the rows in chunks. Every step is idempotent: after a failure, run the same command again.
// The CSV format and the bbox convention are described in feature-refs.ts.

import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { float32ToHalf } from '../domain/half.js';
import type { Box } from '../domain/model.js';
import { parseFeatureRefs, RefsError } from './feature-refs.js';
import { importFolder } from './import.js';
import { readNpy, type NpyMatrix } from './npy.js';
import { api, type Target } from './stack-client.js';

export const DEFAULT_FEATURE_MODEL = 'byo';
/** The API takes at most 1000 rows per request; bigger vectors get smaller chunks (request size limits). */
const MAX_CHUNK_ROWS = 1000;
const MAX_CHUNK_BYTES = 3_000_000;
const HALF_MAX = 65504;

export interface FeatureImportOptions {
  csv: string;
  features: string;
  images: string;
  project: string;
  /** Classes for a new project. */
  classes?: string[];
  taskType?: string;
  /** Embedding model name (default: the project's, else `byo`). */
  model?: string;
  concurrency?: number;
  out?: NodeJS.WriteStream;
}

export interface PlannedRow {
  line: number;
  /** Object name under uploads/<project>/ (path relative to the images folder). */
  file: string;
  box?: Box;
  label?: string;
  featIdx: number;
}

/** What was checked locally, before anything is sent. */
export interface FeaturePlan {
  rows: PlannedRow[];
  matrix: NpyMatrix;
  files: string[];
}

export interface FeatureImportReport {
  rows: number;
  model: string;
  uploaded: number;
  samplesCreated: number;
  labelsApplied: number;
  labelsKept: number;
  vectors: number;
}

/** Reads the CSV and the matrix and finds each referenced file inside the images folder; throws every problem. */
export async function planFeatureImport(opts: Pick<FeatureImportOptions, 'csv' | 'features' | 'images'>): Promise<FeaturePlan> {
  const matrix = await readNpy(opts.features).catch((err: Error) => {
    throw new Error(`${opts.features}: ${err.message}`);
  });
  const refs = parseFeatureRefs(await readFile(opts.csv, 'utf8'), matrix.rows);
  const images = path.resolve(opts.images);
  const problems: string[] = [];
  const located = new Map<string, Promise<string | undefined>>();
  const locate = (filename: string) => {
    if (!located.has(filename)) located.set(filename, locateImage(images, filename));
    return located.get(filename)!;
  };
  const rows: PlannedRow[] = [];
  for (const ref of refs) {
    const file = await locate(ref.filename);
    if (!file) {
      problems.push(`line ${ref.line}: ${ref.filename} not found inside ${images}`);
      continue;
    }
    const bad = badValue(matrix, ref.featIdx);
    if (bad) problems.push(`line ${ref.line}: feat_idx ${ref.featIdx}: ${bad}`);
    rows.push({ line: ref.line, file, featIdx: ref.featIdx, ...(ref.box ? { box: ref.box } : {}), ...(ref.annotation ? { label: ref.annotation } : {}) });
  }
  if (problems.length) throw new RefsError(problems);
  return { rows, matrix, files: [...new Set(rows.map((r) => r.file))] };
}

/**
 * A filename is looked up relative to the images folder, then (as the origin tool wrote them, e.g.
 * `example_data/images/49.jpg`) relative to the working directory; either way it must lie inside the folder.
 */
async function locateImage(images: string, filename: string): Promise<string | undefined> {
  const candidates = path.isAbsolute(filename) ? [filename] : [path.resolve(images, filename), path.resolve(filename)];
  for (const candidate of candidates) {
    const rel = path.relative(images, candidate);
    if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) continue;
    const info = await stat(candidate).catch(() => undefined);
    if (info?.isFile()) return rel.split(path.sep).join('/');
  }
  return undefined;
}

function badValue(matrix: NpyMatrix, row: number): string | undefined {
  for (let k = 0, at = row * matrix.cols; k < matrix.cols; k++, at++) {
    const v = matrix.data[at];
    if (!(Math.abs(v) <= HALF_MAX)) return `value ${v} in column ${k} is not a finite number within ±${HALF_MAX} (Winnow stores float16)`;
  }
  return undefined;
}

export async function runFeatureImport(target: Target, plan: FeaturePlan, opts: FeatureImportOptions): Promise<FeatureImportReport> {
  const out = opts.out ?? process.stdout;
  const log = (line: string) => out.write(line + '\n');
  const project = await readProject(target, opts.project);
  const classes = project?.classes ?? opts.classes;
  if (!classes?.length) {
    const named = [...new Set(plan.rows.flatMap((r) => (r.label ? [r.label] : [])))];
    throw new Error(`project "${opts.project}" does not exist: pass --classes a,b,c to create it${named.length ? ` (the CSV names: ${named.join(', ')})` : ''}`);
  }
  checkLabels(plan.rows, classes);
  const model = opts.model ?? project?.embedding?.model ?? DEFAULT_FEATURE_MODEL;

  const upload = await importFolder(target, {
    dir: path.resolve(opts.images),
    files: plan.files,
    project: opts.project,
    classes,
    taskType: opts.taskType,
    concurrency: opts.concurrency ?? 8,
    wait: true,
    out,
  });
  const unusable = [...upload.rejected, ...upload.failed];
  if (unusable.length) {
    throw new Error(`${unusable.length} referenced image(s) could not be uploaded; fix or remove their rows and run again:\n  ${unusable.map((u) => `${u.file}: ${u.reason}`).join('\n  ')}`);
  }
  const report: FeatureImportReport = { rows: plan.rows.length, model, uploaded: upload.uploaded, samplesCreated: 0, labelsApplied: 0, labelsKept: 0, vectors: 0 };
  await postRows(target, plan, opts.project, model, report, out);
  log(
    `imported ${report.vectors} feature rows (model "${model}", ${plan.matrix.cols} dims): ${report.samplesCreated} new samples, ` +
      `${report.labelsApplied} labels applied, ${report.labelsKept} already labeled and left as they were`,
  );
  return report;
}

async function readProject(target: Target, projectId: string) {
  type P = { project?: { classes: string[]; embedding?: { model: string } } };
  const res = await api<P>(target, 'GET', `/api/projects/${encodeURIComponent(projectId)}`);
  if (res.status === 404) return undefined;
  if (res.status !== 200 || !res.body.project) throw new Error(`could not read project "${projectId}": HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.project;
}

function checkLabels(rows: PlannedRow[], classes: string[]) {
  const known = new Set(classes.map((c) => c.toLowerCase()));
  const problems = rows
    .filter((r) => r.label && !known.has(r.label.trim().toLowerCase()))
    .map((r) => `line ${r.line}: annotation "${r.label}" is not one of the project's classes (${classes.join(', ')})`);
  if (problems.length) throw new RefsError(problems);
}

async function postRows(target: Target, plan: FeaturePlan, projectId: string, model: string, report: FeatureImportReport, out: NodeJS.WriteStream) {
  const { rows, matrix } = plan;
  const perChunk = Math.max(1, Math.min(MAX_CHUNK_ROWS, Math.floor(MAX_CHUNK_BYTES / (matrix.cols * 2))));
  const bar = new cliProgress.SingleBar(
    { format: 'features {bar} {value}/{total} rows  {percentage}%', noTTYOutput: true, notTTYSchedule: 2000, stream: out },
    cliProgress.Presets.shades_classic,
  );
  bar.start(rows.length, 0);
  try {
    for (let start = 0; start < rows.length; start += perChunk) {
      const chunk = rows.slice(start, start + perChunk).map((r) => ({
        file: r.file,
        ...(r.box ? { box: r.box } : {}),
        ...(r.label ? { label: r.label } : {}),
        vector: halfBase64(matrix.data.subarray(r.featIdx * matrix.cols, (r.featIdx + 1) * matrix.cols)),
        line: r.line,
      }));
      const body = await postChunk(target, projectId, { model, dtype: 'f16', rows: chunk }, start, rows.length);
      report.samplesCreated += body.samplesCreated;
      report.labelsApplied += body.labelsApplied;
      report.labelsKept += body.labelsKept;
      report.vectors += body.vectors;
      bar.increment(chunk.length);
    }
  } finally {
    bar.stop();
  }
}

type ChunkResult = { samplesCreated: number; labelsApplied: number; labelsKept: number; vectors: number; message?: string };

/** One chunk, retried on server or network trouble (the API is idempotent, so a retry never duplicates). */
async function postChunk(target: Target, projectId: string, body: unknown, done: number, total: number): Promise<ChunkResult> {
  for (let attempt = 1; ; attempt++) {
    const res = await api<ChunkResult>(target, 'POST', `/api/projects/${encodeURIComponent(projectId)}/features`, body).catch(
      (err: Error) => ({ status: 0, body: { message: err.message } as ChunkResult }),
    );
    if (res.status === 200) return res.body;
    if ((res.status === 0 || res.status >= 500) && attempt < 4) {
      await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
      continue;
    }
    throw new Error(
      `stopped after ${done} of ${total} rows: ${res.body?.message ?? `HTTP ${res.status}`}\n` +
        'fix it and run the same command again: rows already imported are not duplicated',
    );
  }
}

function halfBase64(vector: Float32Array): string {
  const halves = float32ToHalf(vector);
  return Buffer.from(halves.buffer, halves.byteOffset, halves.byteLength).toString('base64');
}
