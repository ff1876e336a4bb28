// The cloud's DeletionRunner (domain/deletion.ts): a message on the export queue, which the export function drains
// a slice at a time (worker.ts).

import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeletionRunner } from '../domain/deletion.js';
import type { DeletionMessage } from './runners.js';

/** Puts the job on the queue the worker drains; the job's record (already written) says what to delete. */
export function sqsDeletionRunner(sqs: SQSClient, queueUrl: string): DeletionRunner {
  return {
    async start(job) {
      const message: DeletionMessage = { kind: 'deletion', projectId: job.projectId, jobId: job.jobId };
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message) }));
    },
  };
}
