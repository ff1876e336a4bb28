// Export jobs on the local stack: the same job code as the cloud, run in this process one at a time, writing to
// the S3 emulator's bucket (download links point at the emulator, which the browser reaches on loopback).

import type { AwsStores } from '../adapters/aws/clients.js';
import { inProcessExportRunner } from '../adapters/export/runners.js';
import { awsExportDeps } from '../adapters/export/service.js';
import { runExport, type ExportDeps } from '../domain/interchange/export/job.js';

/** The embedder the cloud and the bench default to when the analyzer has none loaded. */
const FALLBACK_EMBEDDER = 'mobilenetv2-features';

export function localExports(stores: AwsStores, bucket: string, embedder: string | undefined, log: (line: string) => void) {
  let deps: ExportDeps | undefined;
  const runner = inProcessExportRunner((job) => runExport(deps!, job), log);
  deps = awsExportDeps(stores, { bucket, runner, defaultEmbeddingModel: embedder ?? FALLBACK_EMBEDDER, log });
  return { deps, idle: () => runner.idle() };
}
