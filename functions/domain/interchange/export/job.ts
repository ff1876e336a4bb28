// Export jobs: an owner asks for an export, a runner (this process locally, the trainer function in the cloud)
// streams it into the bucket under `exports/<project>/<exportId>/`, and the owner polls its status, which holds a
// short-lived download link once it is done. The status is a small JSON object beside the file (no table): the
// job rewrites it every few seconds with its counts (progress), and a status that stops moving is reported as
// failed rather than left "running" forever.

import { randomBytes } from 'node:crypto';
import { badRequest, notFound, WinnowError } from '../../errors.js';
import { BUCKET_LAYOUT } from '../../layout.js';
import type { Project } from '../../model.js';
import type { Log, Stores } from '../../ports.js';
import { getProject } from '../../projects.js';
import type { ExportFilter } from '../model.js';
import { emptyCounts, type ExportContext, type ExportCounts } from './context.js';
import { FORMATS, formatRefusal, IMAGE_LABEL_FORMATS, ZIP_CONTENT_TYPE, type ExportFormat } from './formats.js';
import type { ArchiveWriter, EmbeddingSource, ExportObjects, ExportRunner, ImageFiles, ObjectSink } from './ports.js';
import { singleFileOutput } from './single-file.js';

export interface ExportRequest extends ExportFilter {
  format: ExportFormat;
  /** Copy the (upright) originals into the archive. */
  images: boolean;
}

export type ExportState = 'queued' | 'running' | 'done' | 'failed';

export interface ExportStatus {
  exportId: string;
  projectId: string;
  request: ExportRequest;
  state: ExportState;
  /** Why it failed, in words an owner can act on. */
  reason?: string;
  requestedBy: string;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  finishedAt?: string;
  counts: ExportCounts;
  /** Bytes written so far (the file's size once done). */
  bytes: number;
  /** Name the download is saved as. */
  fileName: string;
  contentType: string;
}

export interface ExportDeps {
  stores: Stores;
  objects: ExportObjects;
  /** A ZIP writer over an object sink (adapter: streaming, Zip64). */
  createArchive(sink: ObjectSink): ArchiveWriter;
  /** Originals for archives; absent, exports can only leave images out. */
  images?: ImageFiles;
  embeddings?: EmbeddingSource;
  /** Embedding model used when the project names none (the analyzer's embedder). */
  defaultEmbeddingModel: string;
  /** Where new jobs go; absent in the process that only runs them (the trainer function). */
  runner?: ExportRunner;
  bucket?: string;
  /** Lifetime of download links (default 15 min). */
  downloadTtlSeconds?: number;
  /** How often a running job rewrites its status (default 5 s). */
  heartbeatMs?: number;
  /** A running job whose status has not moved for this long has died (default 2 min). */
  staleMs?: number;
  log?: Log;
}

const EXPORT_ID = /^\d{8}-\d{6}-[0-9a-f]{6}$/;
const MAX_ATTEMPTS = 3;
/** A queued job that no runner picked up within this long is reported failed. */
const QUEUED_LIMIT_MS = 60 * 60 * 1000;

export const exportKeys = (projectId: string, exportId: string, fileName: string) => ({
  status: `${BUCKET_LAYOUT.exportsPrefix(projectId)}${exportId}/status.json`,
  file: `${BUCKET_LAYOUT.exportsPrefix(projectId)}${exportId}/${fileName}`,
});

export function isExportId(id: string): boolean {
  return EXPORT_ID.test(id);
}

/** Checks the request, records the job as queued and hands it to the runner. */
export async function startExport(deps: ExportDeps, projectId: string, request: ExportRequest, requestedBy: string): Promise<ExportStatus> {
  const project = await getProject(deps.stores, projectId);
  const runner = deps.runner;
  if (!runner) throw new WinnowError('unavailable', 'this process runs exports but cannot start them');
  const spec = FORMATS[request.format];
  const refusal = formatRefusal(project, request.format);
  if (refusal) throw badRequest(refusal, { field: 'format', formats: IMAGE_LABEL_FORMATS });
  if (spec.needsImages && !request.images) {
    throw badRequest(`the ${request.format} export is made of the images themselves: it cannot leave them out`, { field: 'images' });
  }
  if (request.images && !deps.images) throw badRequest('this deployment cannot copy images into exports', { field: 'images' });
  if (request.format === 'embeddings' && !deps.embeddings) throw badRequest('this deployment has no embeddings to export', { field: 'format' });
  const now = new Date(deps.stores.clock.now());
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const exportId = `${stamp}-${randomBytes(3).toString('hex')}`;
  const single = !request.images ? spec.single : undefined;
  const status: ExportStatus = {
    exportId,
    projectId,
    request,
    state: 'queued',
    requestedBy,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    counts: emptyCounts(),
    bytes: 0,
    fileName: `${project.id}-${request.format}-${stamp}.${single?.extension ?? 'zip'}`,
    contentType: single?.contentType ?? ZIP_CONTENT_TYPE,
  };
  await writeStatus(deps, status);
  try {
    await runner.dispatch({ projectId, exportId });
  } catch (err) {
    await writeStatus(deps, { ...status, state: 'failed', reason: `could not start the export: ${(err as Error).message}` });
    throw new WinnowError('unavailable', `could not start the export: ${(err as Error).message}`);
  }
  return status;
}

/** The job's status as the owner sees it: a dead job is failed, a finished one comes with a download link. */
export async function exportStatus(deps: ExportDeps, projectId: string, exportId: string): Promise<ExportStatus & { downloadUrl?: string; expiresAt?: string }> {
  const status = isExportId(exportId) ? await readStatus(deps, projectId, exportId) : undefined;
  if (!status) throw notFound(`export "${exportId}"`);
  const now = deps.stores.clock.now();
  const quiet = now - Date.parse(status.updatedAt);
  if (status.state === 'running' && quiet > (deps.staleMs ?? 120_000)) {
    return { ...status, state: 'failed', reason: 'the export stopped making progress (its worker was stopped); start it again' };
  }
  if (status.state === 'queued' && quiet > QUEUED_LIMIT_MS) {
    return { ...status, state: 'failed', reason: 'the export was never started; start it again' };
  }
  if (status.state !== 'done') return status;
  const ttl = deps.downloadTtlSeconds ?? 900;
  const downloadUrl = await deps.objects.presignDownload(exportKeys(projectId, exportId, status.fileName).file, status.fileName, ttl);
  return { ...status, downloadUrl, expiresAt: new Date(now + ttl * 1000).toISOString() };
}

/**
 * Runs a queued job to the end and records how it ended. Never throws for a problem of the export itself (the
 * status says it); throws only when the status cannot be read or written, so that a queue retries the message.
 */
export async function runExport(deps: ExportDeps, job: { projectId: string; exportId: string }): Promise<ExportStatus | undefined> {
  let status = await readStatus(deps, job.projectId, job.exportId);
  if (!status || status.state === 'done' || status.state === 'failed') return status; // a repeated message
  const started = new Date(deps.stores.clock.now()).toISOString();
  for (let attempt = 1; ; attempt++) {
    status = { ...status, state: 'running', startedAt: started, updatedAt: started, counts: emptyCounts(), bytes: 0 };
    await writeStatus(deps, status);
    try {
      const finished = await writeExport(deps, status);
      await writeStatus(deps, finished);
      return finished;
    } catch (err) {
      const retry = err instanceof WinnowError && err.code === 'unavailable' && attempt < MAX_ATTEMPTS;
      deps.log?.(`export ${job.exportId} of ${job.projectId} ${retry ? 'retried' : 'failed'}: ${(err as Error).message}`);
      if (retry) continue;
      const failed: ExportStatus = {
        ...status,
        state: 'failed',
        reason: err instanceof WinnowError ? err.message : `internal error: ${(err as Error).message}`,
        updatedAt: new Date(deps.stores.clock.now()).toISOString(),
        finishedAt: new Date(deps.stores.clock.now()).toISOString(),
      };
      await writeStatus(deps, failed);
      return failed;
    }
  }
}

async function writeExport(deps: ExportDeps, status: ExportStatus): Promise<ExportStatus> {
  const project: Project = await getProject(deps.stores, status.projectId);
  const { request } = status;
  const spec = FORMATS[request.format];
  const key = exportKeys(status.projectId, status.exportId, status.fileName).file;
  const counted = countingSink(deps.objects.create(key, status.contentType, { large: request.images }));
  const out = status.contentType === ZIP_CONTENT_TYPE ? deps.createArchive(counted) : singleFileOutput(counted);
  let lastBeat = deps.stores.clock.now();
  const ctx: ExportContext = {
    stores: deps.stores,
    project,
    filter: { include: request.include, labelerId: request.labelerId, excludeAmbiguous: request.excludeAmbiguous, includeModelLabels: request.includeModelLabels },
    images: request.images ? deps.images : undefined,
    embeddings: deps.embeddings,
    bucket: deps.bucket,
    counts: status.counts,
    tick: async () => {
      const now = deps.stores.clock.now();
      if (now - lastBeat < (deps.heartbeatMs ?? 5000)) return;
      lastBeat = now;
      await writeStatus(deps, { ...status, bytes: counted.bytes, updatedAt: new Date(now).toISOString() });
    },
  };
  try {
    await spec.write(ctx, out, { embeddingModel: project.embedding?.model ?? deps.defaultEmbeddingModel });
    await out.finish();
    await counted.close();
  } catch (err) {
    await counted.abort().catch(() => undefined);
    throw err;
  }
  const now = new Date(deps.stores.clock.now()).toISOString();
  return { ...status, state: 'done', counts: ctx.counts, bytes: counted.bytes, updatedAt: now, finishedAt: now };
}

function countingSink(sink: ObjectSink): ObjectSink & { bytes: number } {
  const counted = {
    bytes: 0,
    async write(chunk: Uint8Array) {
      counted.bytes += chunk.byteLength;
      await sink.write(chunk);
    },
    close: () => sink.close(),
    abort: () => sink.abort(),
  };
  return counted;
}

async function readStatus(deps: ExportDeps, projectId: string, exportId: string): Promise<ExportStatus | undefined> {
  for (let attempt = 1; ; attempt++) {
    const object = await deps.stores.blobs.get(exportKeys(projectId, exportId, '').status);
    if (!object) return undefined;
    try {
      return JSON.parse(Buffer.from(object.body).toString('utf8')) as ExportStatus;
    } catch {
      // S3 replaces an object atomically; the S3 emulator rewrites its file in place, so a read can catch it half
      // written while the job reports progress. Read again.
      if (attempt >= 5) throw new WinnowError('unavailable', `the status of export ${exportId} cannot be read right now; try again`);
      await new Promise((r) => setTimeout(r, 20 * attempt));
    }
  }
}

async function writeStatus(deps: ExportDeps, status: ExportStatus): Promise<void> {
  const body = Buffer.from(JSON.stringify(status, null, 2), 'utf8');
  await deps.stores.blobs.put(exportKeys(status.projectId, status.exportId, status.fileName).status, body, 'application/json');
}

