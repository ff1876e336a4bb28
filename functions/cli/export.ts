// `winnow export`: start an export job on the running Winnow, follow its progress, download the file.

import { createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { parseArgs } from 'node:util';
import { EXPORT_FORMATS, type ExportFormat } from '../domain/interchange/export/formats.js';
import type { ExportStatus } from '../domain/interchange/export/job.js';
import { api, localTarget, type Target } from './stack-client.js';
import type { Print } from './print.js';
import type { CliConfig } from '../local/config.js';

export const EXPORT_USAGE = `  export --project ID --format ${EXPORT_FORMATS.join('|')}
         [--labeler NAME] [--exclude-ambiguous] [--include-model-labels] [--all] [--no-images] [-o FILE] [--data DIR]
      Export the project's labels (default: labeled images only, with the upright images in the archive) and
      download the file (default name: the one the server gives, in the current folder).`;

export interface ExportOptions {
  project: string;
  format: ExportFormat;
  labelerId?: string;
  excludeAmbiguous: boolean;
  /** Also export auto-labels (labels the model wrote). */
  includeModelLabels?: boolean;
  all: boolean;
  images: boolean;
  output?: string;
  /** Where progress lines go (stderr). */
  log?: Print;
  pollMs?: number;
  /** Retries of a status poll that met a network error or a 5xx, with doubling waits from `retryMs` (default 500). */
  pollRetries?: number;
  retryMs?: number;
}

/** A failed answer in words, with the request id the server's log knows it by. */
function describeFailure(status: number, body: { message?: string; requestId?: string } | undefined): string {
  const reason = body?.message ?? 'no reason given';
  return `(${status}): ${reason}${body?.requestId ? ` (request id ${body.requestId})` : ''}`;
}

type StatusResponse = ExportStatus & { downloadUrl?: string; statusUrl?: string; code?: string; message?: string };

export async function exportCommand(args: string[], cli: Pick<CliConfig, 'dataDir'>): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      project: { type: 'string' },
      format: { type: 'string' },
      labeler: { type: 'string' },
      'exclude-ambiguous': { type: 'boolean', default: false },
      'include-model-labels': { type: 'boolean', default: false },
      all: { type: 'boolean', default: false },
      'no-images': { type: 'boolean', default: false },
      output: { type: 'string', short: 'o' },
      data: { type: 'string' },
    },
  });
  if (!values.project || !values.format) throw new Error(`usage:\n${EXPORT_USAGE}`);
  if (!(EXPORT_FORMATS as readonly string[]).includes(values.format)) {
    throw new Error(`--format must be one of ${EXPORT_FORMATS.join(', ')} (got "${values.format}")`);
  }
  const file = await runExportCommand(await localTarget(values.data ?? cli.dataDir), {
    project: values.project,
    format: values.format as ExportFormat,
    labelerId: values.labeler,
    excludeAmbiguous: values['exclude-ambiguous'],
    includeModelLabels: values['include-model-labels'],
    all: values.all,
    images: !values['no-images'],
    output: values.output,
  });
  console.log(file);
  return 0;
}

/** Starts the job, waits for it, downloads the file; returns its path. Throws with the server's reason on failure. */
export async function runExportCommand(target: Target, opts: ExportOptions): Promise<string> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const body = {
    format: opts.format,
    include: opts.all ? 'all' : 'labeled',
    excludeAmbiguous: opts.excludeAmbiguous,
    ...(opts.includeModelLabels ? { includeModelLabels: true } : {}),
    images: opts.images,
    ...(opts.labelerId ? { labelerId: opts.labelerId } : {}),
  };
  const started = await api<StatusResponse>(target, 'POST', `/api/projects/${encodeURIComponent(opts.project)}/exports`, body);
  if (started.status !== 202) throw new Error(`export refused ${describeFailure(started.status, started.body)}`);
  const statusUrl = started.body.statusUrl!;
  log(`export ${started.body.exportId} started (${opts.format})`);
  let status = started.body;
  let last = '';
  while (status.state === 'queued' || status.state === 'running') {
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
    status = await pollStatus(target, statusUrl, log, opts.pollRetries ?? 6, opts.retryMs ?? 500);
    const line = progressLine(status);
    if (line !== last) log(line);
    last = line;
  }
  if (status.state === 'failed' || !status.downloadUrl) throw new Error(`export failed: ${status.reason ?? 'no reason recorded'}`);
  const destination = path.resolve(opts.output ?? status.fileName);
  const res = await fetch(status.downloadUrl);
  if (!res.ok || !res.body) throw new Error(`download failed: ${res.status} ${res.statusText}`);
  // Written beside the destination and renamed at the end: an interrupted download never looks finished.
  const partial = `${destination}.part`;
  await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), createWriteStream(partial));
  await rename(partial, destination);
  log(`downloaded ${formatBytes(status.bytes)}: ${progressLine(status)}`);
  return destination;
}

/**
 * One status poll. The job runs on whatever happens to the poll, so a network error or a 5xx (a restarting server,
 * a proxy hiccup) is retried with doubling waits; a 4xx, or the retries running out, ends the command with the
 * server's reason and request id.
 */
async function pollStatus(target: Target, statusUrl: string, log: Print, retries: number, retryMs: number): Promise<StatusResponse> {
  for (let attempt = 0; ; attempt++) {
    let failure: string;
    try {
      const polled = await api<StatusResponse>(target, 'GET', statusUrl);
      if (polled.status === 200) return polled.body;
      failure = describeFailure(polled.status, polled.body);
      if (polled.status < 500) throw new Error(`export status unavailable ${failure}`);
    } catch (err) {
      if ((err as Error).message.startsWith('export status unavailable')) throw err;
      failure = `(network): ${(err as Error).message}`;
    }
    if (attempt >= retries) throw new Error(`export status unavailable after ${attempt + 1} tries ${failure}`);
    const wait = retryMs * 2 ** attempt;
    log(`export status: ${failure}; trying again in ${(wait / 1000).toFixed(1)} s`);
    await new Promise((r) => setTimeout(r, wait));
  }
}

function progressLine(s: ExportStatus): string {
  const c = s.counts;
  const parts = [`${c.images} images`, `${c.boxes} boxes`, `${c.labels} labels`];
  if (c.files) parts.push(`${c.files} files${c.rotated ? ` (${c.rotated} turned upright)` : ''}`);
  if (c.rows) parts.push(`${c.rows} embedding rows`);
  return `${s.state}: ${parts.join(', ')}, ${formatBytes(s.bytes)}`;
}

const formatBytes = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`);
