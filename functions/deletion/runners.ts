// Where deletion jobs run once the API has started them (the DeletionRunner port, domain/deletion.ts). Locally: in
// the API's own process, behind the 202. In the cloud: a message on the export queue, run to its end by the export
// function in slices bounded by its remaining time (worker.ts): Lambda freezes the API's process once it has
// answered, so a job started there would stall.

import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
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

/** Puts the job on the queue the worker drains; the job's record (already written) says what to delete. */
export function sqsDeletionRunner(sqs: SQSClient, queueUrl: string): DeletionRunner {
  return {
    async start(job) {
      const message: DeletionMessage = { kind: 'deletion', projectId: job.projectId, jobId: job.jobId };
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message) }));
    },
  };
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
