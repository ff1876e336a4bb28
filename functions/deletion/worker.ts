// Deletion jobs in the cloud: the export function runs one slice of a job per queue message (functions/export/
// lambda.ts). A slice runs the job from its record (domain/deletion.ts) until the invocation's remaining time falls
// to the margin, saves its progress and puts the job back on the queue; the next slice goes on from there. So a
// job of any size finishes however short the function's timeout, and a slice killed anyway (out of memory, a
// timeout within one step) is delivered again by SQS after the visibility timeout and resumes from the record.

import { WinnowError } from '../domain/errors.js';
import { runDeletion, type DeletionJob, type DeletionRunner } from '../domain/deletion.js';
import type { Stores } from '../domain/ports.js';
import type { DeletionMessage } from './runners.js';

export interface DeletionWorkerDeps {
  stores: Stores;
  /** Where an unfinished job goes back to (the queue this slice came from). */
  requeue: DeletionRunner;
  /** After a labeler's work is deleted: the samples whose labels changed (to retrain). */
  onLabeled?: (projectId: string, sampleIds: string[]) => void;
  /** Wait before a job's last check for writes that were in flight when it started. @default 2000 */
  settleMs?: number;
}

/** Time kept back at the end of an invocation for the last step (a chunk of 100 images, a page of 1000 items). */
export const SLICE_MARGIN_MS = 120_000;

export interface SliceOutcome {
  /** The job as the slice left it; undefined when its record is gone (a finished project deletion, delivered twice). */
  job?: DeletionJob;
  /** True when the job went back on the queue for another slice. */
  requeued: boolean;
}

/**
 * Runs one slice of the job. `remainingMs` is the invocation's time left (Lambda's getRemainingTimeInMillis); the
 * slice stops after the step during which it fell to the margin (a quarter of the time it started with, at most
 * SLICE_MARGIN_MS). Throws when the job failed (its record says why): the queue delivers it again, then to the DLQ.
 */
export async function runDeletionSlice(deps: DeletionWorkerDeps, message: DeletionMessage, remainingMs: () => number): Promise<SliceOutcome> {
  const margin = Math.min(SLICE_MARGIN_MS, remainingMs() / 4);
  let job: DeletionJob;
  try {
    job = await runDeletion(deps.stores, message.projectId, message.jobId, {
      settleMs: deps.settleMs ?? 2000,
      shouldPause: () => remainingMs() <= margin,
    });
  } catch (err) {
    if (err instanceof WinnowError && err.code === 'not_found') return { requeued: false };
    throw err;
  }
  if (job.status === 'done') {
    if (job.kind === 'labeler' && job.sampleIds?.length) deps.onLabeled?.(job.projectId, job.sampleIds);
    return { job, requeued: false };
  }
  await deps.requeue.start(job);
  return { job, requeued: true };
}
