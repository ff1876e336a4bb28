// Where deletion jobs run once the API has started them (the DeletionRunner port, domain/deletion.ts). Locally: in
// the API's own process, behind the 202. In the cloud: a message on the export queue, run to its end by the export
// function in slices bounded by its remaining time (worker.ts): Lambda freezes the API's process once it has
// answered, so a job started there would stall. The queue's side is sqs-runner.ts (kept apart: the app, which
// imports this file, also runs in the browser tests, where the AWS SDK does not load).

import { runDeletion, type DeletionJob, type DeletionRunner } from '../domain/deletion.js';

export interface DeletionMessage {
  kind: 'deletion';
  projectId: string;
  jobId: string;
}

export function isDeletionMessage(body: unknown): body is DeletionMessage {
  const m = body as Partial<DeletionMessage> | null;
  return !!m && m.kind === 'deletion' && typeof m.projectId === 'string' && typeof m.jobId === 'string';
}

export interface InProcessDeletionOptions {
  settleMs: number;
  /** After a labeler's work is deleted: the samples whose labels changed (to retrain). */
  onLabeled?: (projectId: string, sampleIds: string[]) => void;
  /** A job that failed (its record says so too). */
  onError: (job: DeletionJob, err: unknown) => void;
}

/** Runs the job in this process, not awaited: the API answers 202 at once (the local stack keeps running). */
export function inProcessDeletionRunner(stores: Parameters<typeof runDeletion>[0], opts: InProcessDeletionOptions): DeletionRunner {
  return {
    async start(job) {
      void runDeletion(stores, job.projectId, job.jobId, { settleMs: opts.settleMs }).then(
        (done) => {
          if (done.kind === 'labeler' && done.sampleIds?.length) opts.onLabeled?.(done.projectId, done.sampleIds);
        },
        (err: unknown) => opts.onError(job, err),
      );
    },
  };
}
