// Retention per project (project.retention, set by owners): exports expire `exportsDays` after they finished, and
// originals go `originalsDaysAfterExport` days after an export that holds their labels finished. Absent settings keep
// everything forever. The sweep runs locally at start and every hour (functions/local/stack.ts) and in the cloud at
// the end of each export job (functions/export/lambda.ts).
//
// An export is its folder `exports/<project>/<exportId>/` (status.json beside the file): an expired one loses the
// whole folder. An original goes with everything derived from it (display copy, thumbnail, samples incl. box samples,
// annotations, embedding rows, its place in the ranking) through ordinary image deletion jobs (deletion.ts) of at most
// MAX_IMAGE_IDS images each. In the cloud the sweep only writes them and hands them to the export queue (`runner`),
// whose worker runs each in slices bounded by the function's remaining time (functions/deletion/worker.ts): a sweep
// over thousands of images never holds the Lambda that ran it, and a slice that dies is delivered again and goes on
// from the job's record. Locally (no runner) they run here to their end; a crash is finished by resumeDeletions at
// start-up. Either way a later sweep leaves the images of an unfinished job of an earlier one to that job, and hands
// over again a job that failed or has not moved for STALLED_MS (its message lost). The originals' labels then live
// on only in the exports already downloaded: that is the point of the setting. Which exports count: finished ones of
// every labeler's labels (an export of one labeler's labels does not), and only images uploaded before that export
// started (later ones were not in it). Each sweep that deleted exports or started deletion jobs leaves an audit entry
// (`retention.sweep`, actor `winnow:retention`), written once its jobs are, before they run.

import { recordAudit } from './audit-log.js';
import { mapBounded } from './concurrency.js';
import {
  launchDeletion,
  MAX_IMAGE_IDS,
  runDeletion,
  startImageDeletion,
  unfinishedDeletions,
  type DeletionJob,
  type DeletionRunner,
  type RunOptions,
} from './deletion.js';
import { BUCKET_LAYOUT } from './layout.js';
import type { Project } from './model.js';
import type { Log, Stores } from './ports.js';

export const DAY_MS = 24 * 60 * 60 * 1000;
/** Who the audit log and the deletion jobs name for what the sweep deleted. */
export const RETENTION_ACTOR = 'winnow:retention';
const PAGE = 1000;
/**
 * A retention job not finished whose record has not changed this long is taken as lost (its queue message, or the
 * process that ran it) and handed over again. A running job rewrites its record at every slice and every 2 s.
 */
export const STALLED_MS = 60 * 60 * 1000;

export interface RetentionOptions extends RunOptions {
  log?: Log;
  /**
   * Where the sweep's deletion jobs run: handed to this runner (the cloud: the export queue, run in slices by the
   * worker) and not waited for; without one, run here to their end (the local stack).
   */
  runner?: DeletionRunner;
}

/** What an export's status.json says that the sweep needs (interchange/export/job.ts ExportStatus). */
interface ExportRecord {
  exportId: string;
  state: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  updatedAt?: string;
  request?: { labelerId?: string };
}

export interface RetentionResult {
  projectId: string;
  /** Export folders deleted (their file and status record). */
  exportsDeleted: number;
  /** Objects deleted with them. */
  exportObjectsDeleted: number;
  /** Images whose original was deleted with everything derived (by jobs run to their end here). */
  originalsDeleted: number;
  /** Images whose deletion was handed to the runner in new jobs (they go as its worker runs them). */
  originalsQueued: number;
  /** The new image deletion jobs. */
  jobIds: string[];
  /** Unfinished jobs of earlier sweeps that had failed or stalled, handed over (or run) again. */
  resumedJobIds: string[];
}

/** Runs the sweep over every project with retention settings; one project's failure does not stop the others. */
export async function sweepRetention(stores: Stores, opts: RetentionOptions = {}): Promise<RetentionResult[]> {
  const results: RetentionResult[] = [];
  for (const project of await stores.projects.list()) {
    if (!project.retention || (project.retention.exportsDays === undefined && project.retention.originalsDaysAfterExport === undefined)) continue;
    try {
      results.push(await sweepProject(stores, project, opts));
    } catch (err) {
      opts.log?.(`retention: sweep of project ${project.id} failed`, { projectId: project.id, error: (err as Error).message });
    }
  }
  return results;
}

/** The retention sweep of one project. */
export async function sweepProject(stores: Stores, project: Project, opts: RetentionOptions = {}): Promise<RetentionResult> {
  const now = stores.clock.now();
  const result: RetentionResult = { projectId: project.id, exportsDeleted: 0, exportObjectsDeleted: 0, originalsDeleted: 0, originalsQueued: 0, jobIds: [], resumedJobIds: [] };
  const { runner, log, ...runOpts } = opts;
  /** Hands the job to the runner, or runs it here to its end; how many images it deleted here. */
  const carry = async (job: DeletionJob): Promise<number> => {
    if (runner) {
      await launchDeletion(stores, job, runner);
      return 0;
    }
    const ended = await runDeletion(stores, project.id, job.jobId, runOpts);
    if (ended.status !== 'done') throw new Error(`deletion job ${job.jobId} ended ${ended.status}: ${ended.error ?? ''}`);
    return ended.images?.length ?? 0;
  };
  const { exportsDays, originalsDaysAfterExport } = project.retention ?? {};
  const exports = await listExports(stores, project.id);
  /** New jobs, written before anything is deleted and the audit entry, handed over (or run) after both. */
  const started: { job: DeletionJob; images: number }[] = [];
  /** Images deleted here by earlier sweeps' jobs run again (no runner). */
  let resumedHere = 0;

  // Originals first, while every export's record is still there to say what it held.
  if (originalsDaysAfterExport !== undefined) {
    const cutoff = now - originalsDaysAfterExport * DAY_MS;
    let heldUntil: number | undefined; // images uploaded by this time are in an export old enough
    for (const { record } of exports) {
      if (!record || record.state !== 'done' || record.request?.labelerId !== undefined) continue;
      const finished = Date.parse(record.finishedAt ?? record.updatedAt ?? record.createdAt);
      if (!(finished <= cutoff)) continue;
      const started = Date.parse(record.startedAt ?? record.createdAt);
      if (heldUntil === undefined || started > heldUntil) heldUntil = started;
    }
    // Jobs of earlier sweeps not finished yet: their images are theirs; one that failed or stalled goes again.
    const earlier = (await unfinishedDeletions(stores, project.id)).filter((j) => j.kind === 'images' && j.by === RETENTION_ACTOR);
    const covered = new Set(earlier.flatMap((j) => j.target.imageIds ?? []));
    for (const job of earlier) {
      if (job.status !== 'failed' && now - Date.parse(job.updatedAt) < STALLED_MS) continue;
      log?.(`retention: deletion job ${job.jobId} of project ${project.id} ${job.status === 'failed' ? `failed (${job.error ?? 'no reason'})` : 'stalled'}: handed over again`, { projectId: project.id, jobId: job.jobId });
      resumedHere += await carry(job);
      result.resumedJobIds.push(job.jobId);
    }
    if (heldUntil !== undefined) {
      // An image labeled (or relabeled) after that export started has a label no export holds: it stays until a
      // later export holds it too.
      const relabeled = new Set<string>();
      let cursor: string | undefined;
      do {
        const page = await stores.samples.listSamples(project.id, { cursor, limit: PAGE });
        for (const sample of page.items) if (sample.label && Date.parse(sample.label.at) > heldUntil) relabeled.add(sample.imageId);
        cursor = page.cursor;
      } while (cursor);
      const imageIds: string[] = [];
      do {
        const page = await stores.samples.listImages(project.id, { cursor, limit: PAGE });
        for (const image of page.items) if (Date.parse(image.createdAt) <= heldUntil && !relabeled.has(image.imageId) && !covered.has(image.imageId)) imageIds.push(image.imageId);
        cursor = page.cursor;
      } while (cursor);
      for (let i = 0; i < imageIds.length; i += MAX_IMAGE_IDS) {
        const chunk = imageIds.slice(i, i + MAX_IMAGE_IDS);
        const job = await startImageDeletion(stores, project.id, { imageIds: chunk }, RETENTION_ACTOR);
        result.jobIds.push(job.jobId);
        started.push({ job, images: chunk.length });
      }
    }
  }

  if (exportsDays !== undefined) {
    const cutoff = now - exportsDays * DAY_MS;
    for (const { keys, record } of exports) {
      // A folder without a readable record (a job that died before writing one) ages from its newest object.
      const at = record ? Date.parse(record.finishedAt ?? record.updatedAt ?? record.createdAt) : Math.max(...keys.map((k) => k.at));
      const live = record && (record.state === 'running' || record.state === 'queued') && Date.parse(record.updatedAt ?? record.createdAt) > cutoff;
      if (live || !(at <= cutoff)) continue;
      await stores.blobs.deleteMany(keys.map((k) => k.key));
      result.exportsDeleted++;
      result.exportObjectsDeleted += keys.length;
    }
  }

  // Audited once the jobs are written, before they run: a job that does not get through now (the queue unreachable,
  // a crash) is carried on by a later sweep, which audits nothing new for it.
  const decided = started.reduce((n, s) => n + s.images, 0);
  if (result.exportsDeleted > 0 || decided > 0) {
    await recordAudit(stores.blobs, {
      projectId: project.id,
      at: new Date(now).toISOString(),
      actor: RETENTION_ACTOR,
      action: 'retention.sweep',
      target: {
        exports: result.exportsDeleted,
        originals: decided,
        ...(runner && decided > 0 ? { queued: decided } : {}),
        ...(result.jobIds.length === 1 ? { jobId: result.jobIds[0] } : {}),
        ...(exportsDays !== undefined ? { exportsDays } : {}),
        ...(originalsDaysAfterExport !== undefined ? { originalsDaysAfterExport } : {}),
      },
    });
  }
  result.originalsDeleted += resumedHere;
  for (const { job, images } of started) {
    result.originalsDeleted += await carry(job);
    if (runner) result.originalsQueued += images;
  }
  return result;
}

interface ExportFolder {
  exportId: string;
  keys: { key: string; at: number }[];
  record?: ExportRecord;
}

/** The project's export folders with their status records. */
async function listExports(stores: Stores, projectId: string): Promise<ExportFolder[]> {
  const prefix = BUCKET_LAYOUT.exportsPrefix(projectId);
  const folders = new Map<string, ExportFolder>();
  let cursor: string | undefined;
  do {
    const page = await stores.blobs.list(prefix, { cursor, limit: PAGE });
    for (const object of page.items) {
      const exportId = object.key.slice(prefix.length).split('/')[0];
      if (!exportId) continue;
      const folder = folders.get(exportId) ?? { exportId, keys: [] };
      folder.keys.push({ key: object.key, at: object.lastModified ? new Date(object.lastModified).getTime() : 0 });
      folders.set(exportId, folder);
    }
    cursor = page.cursor;
  } while (cursor);
  const list = [...folders.values()];
  await mapBounded(list, 8, async (folder) => {
    const stored = await stores.blobs.get(`${prefix}${folder.exportId}/status.json`).catch(() => undefined);
    if (!stored) return;
    try {
      folder.record = JSON.parse(Buffer.from(stored.body).toString('utf8')) as ExportRecord;
    } catch {
      // half-written or foreign: treated as a folder without a record
    }
  });
  return list;
}

/**
 * Sweeps now and then every `intervalMs` (default an hour) until stopped; a sweep never overlaps the previous one.
 * `stop` clears the timer and waits for a sweep under way, so nothing runs after the stores are closed.
 */
export function scheduleRetention(stores: Stores, opts: { intervalMs?: number; log: Log }): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  let stopped = false;
  const sweep = () => {
    if (running || stopped) return;
    running = sweepRetention(stores, { log: opts.log })
      .then((results) => {
        for (const r of results) if (r.exportsDeleted || r.originalsDeleted || r.originalsQueued) opts.log('retention: deleted what the project keeps no longer', { ...r });
      })
      .catch((err: unknown) => opts.log('retention: sweep failed', { error: (err as Error)?.message ?? String(err) }))
      .finally(() => (running = undefined));
  };
  sweep();
  const timer = setInterval(sweep, opts.intervalMs ?? 60 * 60 * 1000);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
