// `winnow import DIR --project ID [--classes a,b]`: upload every image in a folder through the S3 API with
// bounded concurrency and a progress bar, then wait for ingest. Files already in the bucket with the same
// content are not uploaded again; ingest is idempotent per key, so a re-run never creates duplicates.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import cliProgress from 'cli-progress';
import { WinnowError } from '../domain/errors.js';
import { sniffImageFormat } from '../domain/image-format.js';
import { api, type Target } from './stack-client.js';
import type { Print } from './print.js';

export interface ImportOptions {
  dir: string;
  project: string;
  classes?: string[];
  taskType?: string;
  concurrency: number;
  wait: boolean;
  /** Only these files (paths relative to `dir`, forward slashes) instead of every file under `dir`. */
  files?: string[];
  out?: NodeJS.WriteStream;
}

export interface ImportReport {
  uploaded: number;
  unchanged: number;
  rejected: { file: string; reason: string }[];
  failed: { file: string; reason: string }[];
}

const CONTENT_TYPES: Record<string, string> = {
  jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', tiff: 'image/tiff', avif: 'image/avif',
};

export async function importFolder(target: Target, opts: ImportOptions): Promise<ImportReport> {
  const log = (line: string) => (opts.out ?? process.stdout).write(line + '\n');
  await ensureProject(target, opts, log);
  const listed = opts.files ? opts.files.map((rel) => path.join(opts.dir, rel)) : await listFiles(opts.dir);
  const report: ImportReport = { uploaded: 0, unchanged: 0, rejected: [], failed: [] };
  // Hidden files of the folder (.DS_Store, editor backups...) are left out, and named like every file left out.
  const hidden = (file: string) => !opts.files && path.basename(file).startsWith('.');
  for (const file of listed.filter(hidden)) {
    report.rejected.push({ file: path.relative(opts.dir, file).split(path.sep).join('/'), reason: 'hidden file (its name starts with "."), left out; rename it to import it' });
  }
  const files = listed.filter((file) => !hidden(file));
  const bar = new cliProgress.SingleBar(
    { format: 'upload  {bar} {value}/{total} files  {percentage}%  {eta_formatted} left', noTTYOutput: true, notTTYSchedule: 2000, stream: opts.out ?? process.stdout },
    cliProgress.Presets.shades_classic,
  );
  // A whole folder: what the bucket already holds comes from one listing (1,000 keys a page), not a HEAD per file.
  const known = !opts.files && files.length >= LIST_FROM ? await uploadedEtags(target, opts.project) : undefined;
  bar.start(files.length, 0);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++];
      const rel = path.relative(opts.dir, file).split(path.sep).join('/');
      try {
        const outcome = await uploadOne(target, opts.project, file, rel, known);
        if (outcome === 'uploaded') report.uploaded++;
        else if (outcome === 'unchanged') report.unchanged++;
        else report.rejected.push({ file: rel, reason: outcome.rejected });
      } catch (err) {
        report.failed.push({ file: rel, reason: (err as Error).message });
      }
      bar.increment();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, worker));
  bar.stop();
  log(`uploaded ${report.uploaded}, unchanged ${report.unchanged}, skipped ${report.rejected.length}, failed ${report.failed.length}`);
  for (const r of report.rejected) log(`  skipped ${r.file}: ${r.reason}`);
  for (const f of report.failed) log(`  FAILED ${f.file}: ${f.reason}`);
  if (opts.wait) await waitForIngest(target, opts.project, report.uploaded + report.unchanged, log, opts.out);
  return report;
}

async function ensureProject(target: Target, opts: ImportOptions, log: Print) {
  const existing = await api<{ project?: { classes: string[] } }>(target, 'GET', `/api/projects/${encodeURIComponent(opts.project)}`);
  if (existing.status === 200) {
    if (opts.classes && existing.body.project?.classes.join(',') !== opts.classes.join(',')) {
      log(`note: project "${opts.project}" exists with classes ${existing.body.project?.classes.join(', ')}; --classes ignored`);
    }
    return;
  }
  if (existing.status !== 404) throw new Error(`could not read project: HTTP ${existing.status} ${JSON.stringify(existing.body)}`);
  if (!opts.classes?.length) throw new Error(`project "${opts.project}" does not exist: pass --classes a,b,c to create it`);
  const created = await api<{ message?: string }>(target, 'POST', '/api/projects', {
    id: opts.project,
    classes: opts.classes,
    ...(opts.taskType ? { taskType: opts.taskType } : {}),
  });
  if (created.status !== 201) throw new Error(`could not create project: ${created.body?.message ?? created.status}`);
  log(`created project "${opts.project}" with classes ${opts.classes.join(', ')}`);
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** Folders of at least this many files are checked against a listing of the project's uploads. */
const LIST_FROM = 100;

/** ETag of every object under the project's upload folder, by key. */
async function uploadedEtags(target: Target, project: string): Promise<Map<string, string>> {
  const etags = new Map<string, string>();
  let token: string | undefined;
  do {
    const page = await target.s3.send(new ListObjectsV2Command({ Bucket: target.bucket, Prefix: `uploads/${project}/`, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key && o.ETag) etags.set(o.Key, o.ETag.replace(/"/g, ''));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return etags;
}

async function uploadOne(
  target: Target,
  project: string,
  file: string,
  rel: string,
  known?: Map<string, string>,
): Promise<'uploaded' | 'unchanged' | { rejected: string }> {
  // One read per file: the format is sniffed from the bytes that are then uploaded (images are at most tens of MB).
  const body = readFileSync(file);
  let type: string;
  try {
    type = sniffImageFormat(body.subarray(0, 4096));
  } catch (err) {
    if (err instanceof WinnowError) return { rejected: err.message };
    throw err;
  }
  const key = `uploads/${project}/${rel}`;
  const etag = known ? known.get(key) : (await target.s3.send(new HeadObjectCommand({ Bucket: target.bucket, Key: key })).catch(() => undefined))?.ETag?.replace(/"/g, '');
  // The MD5 (what s3rver and S3 give as a single-part upload's ETag) only when there is an object to compare with.
  if (etag && etag === createHash('md5').update(body).digest('hex')) return 'unchanged';
  await target.s3.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: body, ContentType: CONTENT_TYPES[type] }));
  return 'uploaded';
}

/** Waits until every image of the project is ingested; `expected` = images this import knows exist (events may lag). */
async function waitForIngest(target: Target, project: string, expected: number, log: Print, out?: NodeJS.WriteStream) {
  type P = { images: { pending: number; ready: number; failed: number } };
  const bar = new cliProgress.SingleBar(
    { format: 'ingest  {bar} {value}/{total} images  ({failed} failed)', noTTYOutput: true, notTTYSchedule: 2000, stream: out ?? process.stdout },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let last = -1;
  let stalled = 0;
  for (;;) {
    const { body } = await api<P>(target, 'GET', `/api/projects/${encodeURIComponent(project)}/progress`);
    const { pending, ready, failed } = body.images;
    const total = Math.max(pending + ready + failed, expected);
    if (!started) {
      bar.start(total, ready + failed, { failed });
      started = true;
    }
    bar.setTotal(total);
    bar.update(ready + failed, { failed });
    if (pending === 0 && ready + failed >= expected) break;
    stalled = ready + failed === last ? stalled + 1 : 0;
    last = ready + failed;
    if (stalled > 600) {
      bar.stop();
      log(`ingest made no progress for 5 minutes; ${pending} image(s) still pending — check the server log`);
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  bar.stop();
  const { body } = await api<{ images: { imageId: string; key: string; reason?: string }[] }>(
    target, 'GET', `/api/projects/${encodeURIComponent(project)}/images?status=failed&limit=500`,
  );
  for (const image of body.images ?? []) log(`  ingest failed ${image.key}: ${image.reason}`);
}
