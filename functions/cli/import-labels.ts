// `winnow import-labels PATH --format coco|voc|yolo|csv --project ID`: existing labels into a project, as labels
// or as box proposals to review. Steps, each safe to repeat:
//   1. read and parse the annotations locally (every unreadable row, every refused archive entry, at once);
//   2. create the project from the file's classes if asked (box-review when there are boxes);
//   3. ask the server which images it already has (a dry run with the names as written), upload the missing ones
//      from PATH through the ordinary import (md5 skip, progress), and wait for ingest;
//   4. dry-run the whole set against the ingested images and print the report (and --report FILE as CSV);
//   5. apply, only if every row is clean. Requests are idempotent, so after a failure the same command finishes
//      the job without writing anything twice.

import cliProgress from 'cli-progress';
import type { ImportReport } from '../domain/interchange/import/import-labels.js';
import type { ImportItem, ImportReportRow } from '../domain/interchange/model.js';
import { importFolder } from './import.js';
import { printReport, writeReportCsv } from './import-report.js';
import { readLabelFiles, TreeImages, type LabelFormat } from './label-files.js';
import { openSource } from './label-source.js';
import { api, type Target } from './stack-client.js';
import type { Print } from './print.js';

export interface LabelImportOptions {
  path: string;
  format: LabelFormat;
  project: string;
  mode: 'labels' | 'proposals';
  overwrite?: boolean;
  createProject?: boolean;
  dryRun?: boolean;
  /** Where the images are when PATH is one annotation file (default: its folder). */
  images?: string;
  /** Write every report row here as CSV. */
  report?: string;
  concurrency?: number;
  out?: NodeJS.WriteStream;
}

export interface LabelImportResult {
  ok: boolean;
  applied: boolean;
  rows: ImportReportRow[];
  summary?: ImportReport['summary'];
  uploaded: number;
}

/** Items and boxes per request, within the API's limits (500 items, 50,000 boxes). */
const CHUNK_ITEMS = 200;
const CHUNK_BOXES = 20_000;

/** `connect` is called only once the files have been read cleanly: local problems need no running Winnow. */
export async function runLabelImport(connect: () => Promise<Target>, opts: LabelImportOptions): Promise<LabelImportResult> {
  const out = opts.out ?? process.stdout;
  const log = (line: string) => out.write(line + '\n');
  const finish = async (result: LabelImportResult, heading: string) => {
    printReport(result.rows, heading, log);
    if (opts.report) await writeReportCsv(opts.report, result.rows);
    return result;
  };

  const tree = await openSource(opts.path, opts.images);
  const parsed = await readLabelFiles(tree, opts.format);
  const local: ImportReportRow[] = [
    ...tree.refused.map((name) => ({
      source: `archive entry "${name}"`, file: name, ok: false, code: 'unreadable' as const,
      problem: 'its name climbs out of the archive (.., an absolute path or a drive letter): refused, nothing from it is read or uploaded',
    })),
    ...parsed.problems,
  ];
  if (local.length) return finish({ ok: false, applied: false, rows: local, uploaded: 0 }, `${local.length} problem(s) in ${opts.path}; nothing was imported or uploaded`);
  if (parsed.items.length === 0) throw new Error(`no ${opts.format.toUpperCase()} annotations found in ${opts.path}`);
  log(`read ${parsed.items.length} annotated images (${parsed.items.reduce((n, i) => n + i.boxes.length, 0)} boxes) from ${opts.path}`);

  const target = await connect();
  const items = parsed.items;
  const images = new TreeImages(tree.files);
  if (!(await ensureProject(target, opts, items, parsed.classes, log))) {
    const rows = localDryRun(items, images, parsed.origins, opts);
    const ok = rows.every((r) => r.ok);
    return finish({ ok, applied: false, rows, uploaded: 0 }, `dry run: ${ok ? 'clean' : 'problems found'}, nothing written or uploaded (sizes and boxes are checked once the images are ingested)`);
  }

  // Which images does the project lack? Those found in PATH are uploaded under their path there.
  const first = await send(target, opts, items, true, 'checking');
  markCrossChunkDuplicates(items, first.itemRows);
  const uploads = new Map<ImportItem, string>();
  let waitForIngest = false;
  items.forEach((item, i) => {
    const row = first.itemRows[i];
    if (row.code === 'not_ingested') {
      waitForIngest = true;
      if (opts.dryRun) Object.assign(row, { ok: true, code: undefined, problem: undefined, action: 'not ingested yet: checked on the real run, once ingest has finished' });
      return;
    }
    if (row.code !== 'missing_file') return;
    const found = images.locate(item, parsed.origins.get(item));
    if (!found.file) {
      row.problem = `${row.problem}; ${found.why}`;
      return;
    }
    uploads.set(item, found.file);
    const action = `${opts.dryRun ? 'would upload' : 'uploading'} ${found.file} from ${opts.path}; its boxes are checked against the image after ingest`;
    Object.assign(row, { ok: true, code: undefined, problem: undefined, action });
  });
  // Rows waiting for ingest are fine for now; anything else wrong stops here, before any upload.
  const blocking = first.rows.filter((r) => !r.ok && r.code !== 'not_ingested');
  if (opts.dryRun || blocking.length) {
    const ok = blocking.length === 0;
    const heading = opts.dryRun ? `dry run: ${ok ? 'clean' : 'problems found'}, nothing written or uploaded` : 'problems found; nothing was imported or uploaded';
    return finish({ ok, applied: false, rows: first.rows, summary: first.summary, uploaded: 0 }, heading);
  }
  let uploaded = 0;
  if (uploads.size > 0 || waitForIngest) {
    const files = [...new Set(uploads.values())];
    const dir = await tree.materialize(files);
    const upload = await importFolder(target, { dir, files, project: opts.project, concurrency: opts.concurrency ?? 8, wait: true, out });
    uploaded = upload.uploaded;
    for (const [item, file] of uploads) {
      item.file = file; // the name it now has in the project, extension included
      delete item.extensionUnknown;
    }
  }

  // The whole set against the ingested images, then the writes if (and only if) all is clean.
  const check = await send(target, opts, items, true, 'checking');
  markCrossChunkDuplicates(items, check.itemRows);
  if (!check.rows.every((r) => r.ok)) {
    return finish({ ok: false, applied: false, rows: check.rows, summary: check.summary, uploaded }, 'problems found; nothing was imported');
  }
  const applied = await send(target, opts, items, false, 'importing');
  const s = applied.summary;
  return finish(
    { ok: true, applied: true, rows: applied.rows, summary: s, uploaded },
    `imported ${s.items} images as ${opts.mode}: ${opts.mode === 'labels' ? `${s.labels} labels` : `${s.proposals} proposals`}` +
      ` (${s.boxes} boxes), ${s.kept} existing labels kept, ${s.unchanged} unchanged`,
  );
}

/** Makes sure the project exists (creating it with --create-project); false in a dry run that would create it. */
async function ensureProject(target: Target, opts: LabelImportOptions, items: ImportItem[], classes: string[], log: Print): Promise<boolean> {
  const existing = await api<{ project?: { classes: string[] } }>(target, 'GET', `/api/projects/${encodeURIComponent(opts.project)}`);
  if (existing.status === 200) return true;
  if (existing.status !== 404) throw new Error(`could not read project "${opts.project}": HTTP ${existing.status} ${JSON.stringify(existing.body)}`);
  if (!opts.createProject) {
    throw new Error(`project "${opts.project}" does not exist: pass --create-project to create it with the file's classes (${classes.join(', ')})`);
  }
  const boxes = opts.mode === 'proposals' || items.some((i) => i.boxes.length > 0);
  const multi = items.some((i) => (i.classes ?? []).reduce((sum, c) => sum + c.confidence, 0) > 1);
  const taskType = boxes ? 'box-review' : multi ? 'multi-label' : 'single-label';
  if (opts.dryRun) {
    log(`would create ${taskType} project "${opts.project}" with classes ${classes.join(', ')}`);
    return false;
  }
  const created = await api<{ message?: string }>(target, 'POST', '/api/projects', { id: opts.project, classes, taskType });
  if (created.status !== 201) throw new Error(`could not create project "${opts.project}": ${created.body?.message ?? created.status}`);
  log(`created ${taskType} project "${opts.project}" with classes ${classes.join(', ')}`);
  return true;
}

/** A dry run for a project that does not exist yet: every image must be in PATH; the rest is checked on the real run. */
function localDryRun(items: ImportItem[], images: TreeImages, origins: Map<ImportItem, string>, opts: LabelImportOptions): ImportReportRow[] {
  return items.map((item) => {
    const found = images.locate(item, origins.get(item));
    if (!found.file) return { source: item.source, file: item.file, ok: false, code: 'missing_file' as const, problem: found.why };
    return { source: item.source, file: item.file, ok: true, action: `would upload ${found.file} from ${opts.path} and import ${item.boxes.length} boxes` };
  });
}

interface Sent {
  rows: ImportReportRow[];
  /** The item row of each item, in item order (box rows follow their item in `rows`). */
  itemRows: ImportReportRow[];
  summary: ImportReport['summary'];
}

/** The items in chunks; the reports joined. A dry run collects every chunk's rows, failed or not. */
async function send(target: Target, opts: LabelImportOptions, items: ImportItem[], dryRun: boolean, what: string): Promise<Sent> {
  const chunks = chunked(items);
  const bar = new cliProgress.SingleBar(
    { format: `${what.padEnd(9)}{bar} {value}/{total} images`, noTTYOutput: true, notTTYSchedule: 2000, stream: opts.out ?? process.stdout },
    cliProgress.Presets.shades_classic,
  );
  bar.start(items.length, 0);
  const sent: Sent = { rows: [], itemRows: [], summary: { items: 0, boxes: 0, labels: 0, proposals: 0, kept: 0, unchanged: 0, failed: 0 } };
  try {
    for (const [done, chunk] of chunks) {
      const body = { mode: opts.mode, overwrite: opts.overwrite ?? false, dryRun, items: chunk };
      const report = await post(target, opts.project, body, done, items.length);
      sent.rows.push(...report.rows);
      sent.itemRows.push(...itemRowsOf(chunk, report.rows));
      for (const key of Object.keys(sent.summary) as (keyof ImportReport['summary'])[]) sent.summary[key] += report.summary[key];
      bar.increment(chunk.length);
    }
  } finally {
    bar.stop();
  }
  return sent;
}

/** Each item's own row: the server answers, per item in order, its row and then its box rows. */
function itemRowsOf(chunk: ImportItem[], rows: ImportReportRow[]): ImportReportRow[] {
  let at = 0;
  return chunk.map((item) => {
    while (at < rows.length && rows[at].source !== item.source) at++;
    if (at >= rows.length) throw new Error(`the server's report has no row for ${item.source}`);
    return rows[at++];
  });
}

function chunked(items: ImportItem[]): [number, ImportItem[]][] {
  const chunks: [number, ImportItem[]][] = [];
  let current: ImportItem[] = [];
  let boxes = 0;
  let start = 0;
  items.forEach((item, i) => {
    if (current.length && (current.length >= CHUNK_ITEMS || boxes + item.boxes.length > CHUNK_BOXES)) {
      chunks.push([start, current]);
      current = [];
      boxes = 0;
      start = i;
    }
    current.push(item);
    boxes += item.boxes.length;
  });
  if (current.length) chunks.push([start, current]);
  return chunks;
}

/** One request, retried on server or network trouble (imports are idempotent). A 400 with a report is a report. */
async function post(target: Target, projectId: string, body: { dryRun: boolean; items: ImportItem[] }, done: number, total: number): Promise<ImportReport> {
  type Body = Partial<ImportReport> & { message?: string };
  for (let attempt = 1; ; attempt++) {
    const res = await api<Body>(target, 'POST', `/api/projects/${encodeURIComponent(projectId)}/imports`, body).catch(
      (err: Error) => ({ status: 0, body: { message: err.message } as Body }),
    );
    if ((res.status === 200 || res.status === 400) && res.body.rows && res.body.summary) return res.body as ImportReport;
    if ((res.status === 0 || res.status >= 500) && attempt < 4) {
      await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
      continue;
    }
    const where = body.dryRun ? 'while checking' : `after ${done} of ${total} images`;
    throw new Error(
      `stopped ${where}: ${res.body?.message ?? `HTTP ${res.status}`}` +
        (body.dryRun ? '' : '\nrun the same command again: what was imported is not imported twice'),
    );
  }
}

/** The server sees one chunk at a time: the same image in two chunks is found here. */
function markCrossChunkDuplicates(items: ImportItem[], itemRows: ImportReportRow[]): void {
  const seen = new Map<string, number>();
  itemRows.forEach((row, i) => {
    if (!row.image || !row.ok) return;
    const first = seen.get(row.image);
    if (first === undefined) {
      seen.set(row.image, i);
      return;
    }
    Object.assign(row, { ok: false, code: 'duplicate', action: undefined, problem: `same image as ${items[first].source} ("${row.image}"): give each image once` });
  });
}
