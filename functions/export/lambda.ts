// Composition root of the export Lambda, fed by the export queue (`{ kind: 'export', projectId, exportId }`,
// posted by the API when an owner starts an export). Jobs stream their archive into the bucket and record their
// own outcome (functions/domain/interchange/export/job.ts); this function has the time, the memory and sharp
// (to write EXIF-rotated images upright) that the API does not. After each job it runs the retention sweep
// (domain/retention.ts): in the cloud, exports and originals past their project's retention go on the next export
// job of any project (no schedule of its own).

import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createAwsStores } from '../adapters/aws/clients.js';
import { exportConfig } from '../adapters/aws/env.js';
import { isExportMessage } from '../adapters/export/runners.js';
import { awsExportDeps } from '../adapters/export/service.js';
import { createLogger } from '../adapters/log.js';
import { runExport, type ExportDeps } from '../domain/interchange/export/job.js';
import { sweepRetention } from '../domain/retention.js';

const logger = createLogger({ format: 'json' });
let deps: ExportDeps | undefined;

function init(): ExportDeps {
  if (deps) return deps;
  const config = exportConfig();
  const stores = createAwsStores(config);
  // Jobs are started by the API; this function only runs them (no runner to dispatch new ones).
  return (deps = awsExportDeps(stores, { bucket: config.bucket, defaultEmbeddingModel: config.embedder, log: logger.error }));
}

export async function handler(event: SQSEvent, context?: Pick<Context, 'awsRequestId'>): Promise<SQSBatchResponse> {
  const exportDeps = init();
  const log = context ? logger.with({ requestId: context.awsRequestId }) : logger;
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  for (const message of event.Records) {
    let job: unknown;
    try {
      job = JSON.parse(message.body);
    } catch {
      job = undefined;
    }
    if (!isExportMessage(job)) {
      log.error(`export: message ${message.messageId} dropped: not an export job`, { messageId: message.messageId });
      continue; // a retry cannot fix it
    }
    try {
      const status = await runExport(exportDeps, job);
      log('export', { ...job, state: status?.state, bytes: status?.bytes, reason: status?.reason });
    } catch (err) {
      // Only when its status could not be recorded: let the queue try again.
      log.error(`export: ${job.exportId} failed`, { exportId: job.exportId, error: err });
      failures.push({ itemIdentifier: message.messageId });
    }
  }
  // Retention per project: a failed sweep is logged and tried again after the next export, never fails this one.
  const swept = await sweepRetention(exportDeps.stores, { log: log.error }).catch((err: unknown) => {
    log.error('retention: sweep failed', { error: err });
    return [];
  });
  for (const r of swept) if (r.exportsDeleted || r.originalsDeleted) log('retention', { ...r });
  return { batchItemFailures: failures };
}
