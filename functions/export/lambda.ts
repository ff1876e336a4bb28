// Composition root of the export Lambda, fed by the export queue with two kinds of jobs, both posted by the API:
// - `{ kind: 'export', projectId, exportId }` when an owner starts an export. Jobs stream their archive into the
//   bucket and record their own outcome (functions/domain/interchange/export/job.ts); this function has the time,
//   the memory and sharp (to write EXIF-rotated images upright) that the API does not. After each export job it
//   runs the retention sweep (domain/retention.ts): in the cloud, exports and originals past their project's
//   retention go on the next export job of any project (no schedule of its own).
// - `{ kind: 'deletion', projectId, jobId }` when an owner deletes images, a labeler's work or a project: one slice
//   of the job per message, put back on the queue until the job is done (functions/deletion/worker.ts). This is
//   the function that deletes what owners delete (FUNCTION_ACCESS.export); the API only writes the job record.
//   One queue for both, so the stage's concurrency budget (infra/config.ts) is unchanged; a deletion started
//   while both pollers run long exports waits for one of them (slices re-queue, so exports wait for deletions
//   no longer than a slice).

import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createAwsStores } from '../adapters/aws/clients.js';
import { sqsTrainerTriggers, type TrainerTriggers } from '../adapters/aws/trainer-queue.js';
import { exportConfig } from '../adapters/aws/env.js';
import { isExportMessage } from '../adapters/export/runners.js';
import { awsExportDeps } from '../adapters/export/service.js';
import { createLogger } from '../adapters/log.js';
import { runExport, type ExportDeps } from '../domain/interchange/export/job.js';
import { sweepRetention } from '../domain/retention.js';
import { isDeletionMessage } from '../deletion/runners.js';
import { sqsDeletionRunner } from '../deletion/sqs-runner.js';
import { runDeletionSlice, type DeletionWorkerDeps } from '../deletion/worker.js';

const logger = createLogger({ format: 'json' });
let deps: { exports: ExportDeps; deletions: DeletionWorkerDeps; triggers: TrainerTriggers } | undefined;

function init() {
  if (deps) return deps;
  const config = exportConfig();
  const stores = createAwsStores(config);
  const sqs = new SQSClient({ region: config.region });
  const triggers = sqsTrainerTriggers(sqs, config.trainerQueueUrl);
  return (deps = {
    // Jobs are started by the API; this function only runs them (no runner to dispatch new ones).
    exports: awsExportDeps(stores, { bucket: config.bucket, defaultEmbeddingModel: config.embedder, log: logger.error }),
    // An unfinished deletion goes back on this function's queue (behind the jobs that came meanwhile).
    deletions: { stores, requeue: sqsDeletionRunner(sqs, config.exportQueueUrl), onLabeled: (projectId, sampleIds) => triggers.add(projectId, sampleIds) },
    triggers,
  });
}

export async function handler(event: SQSEvent, context?: Pick<Context, 'awsRequestId' | 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> {
  const { exports: exportDeps, deletions, triggers } = init();
  const log = context ? logger.with({ requestId: context.awsRequestId }) : logger;
  const remainingMs = () => context?.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY;
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  let exported = false;
  for (const message of event.Records) {
    let job: unknown;
    try {
      job = JSON.parse(message.body);
    } catch {
      job = undefined;
    }
    if (isDeletionMessage(job)) {
      try {
        const { job: left, requeued } = await runDeletionSlice(deletions, job, remainingMs);
        log('deletion', { ...job, status: left?.status ?? 'gone', phase: left?.phase, progress: left?.progress, requeued });
      } catch (err) {
        // The job's record says it failed; the queue runs it again (from its record), then keeps it in the DLQ.
        log.error(`deletion: ${job.jobId} of project ${job.projectId} failed`, { ...job, error: err });
        failures.push({ itemIdentifier: message.messageId });
      }
      continue;
    }
    if (!isExportMessage(job)) {
      log.error(`export: message ${message.messageId} dropped: neither an export nor a deletion job`, { messageId: message.messageId });
      continue; // a retry cannot fix it
    }
    exported = true;
    try {
      const status = await runExport(exportDeps, job);
      log('export', { ...job, state: status?.state, bytes: status?.bytes, reason: status?.reason });
    } catch (err) {
      // Only when its status could not be recorded: let the queue try again.
      log.error(`export: ${job.exportId} failed`, { exportId: job.exportId, error: err });
      failures.push({ itemIdentifier: message.messageId });
    }
  }
  // A labeler's work deleted: the trainer ranks again (sent before Lambda freezes this process; the deletion stands
  // when the trigger fails, the next label sends another).
  await triggers.flush().catch((err: unknown) => log.error('deletion: trainer trigger failed', { error: err }));
  if (!exported) return { batchItemFailures: failures };
  // Retention per project: a failed sweep is logged and tried again after the next export, never fails this one.
  // Its deletion jobs go on this function's queue, run in slices like the owners' deletions.
  const swept = await sweepRetention(exportDeps.stores, { log: log.error, runner: deletions.requeue }).catch((err: unknown) => {
    log.error('retention: sweep failed', { error: err });
    return [];
  });
  for (const r of swept) if (r.exportsDeleted || r.originalsDeleted || r.originalsQueued || r.resumedJobIds.length) log('retention', { ...r });
  return { batchItemFailures: failures };
}
