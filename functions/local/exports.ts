// Export jobs on the local stack: the same job code as the cloud, run in this process one at a time, writing to
// the S3 emulator's bucket. Download links are the stack's own signed file URLs (the emulator stays on loopback).

import type { AwsStores } from '../adapters/aws/clients.js';
import { inProcessExportRunner } from '../adapters/export/runners.js';
import { awsExportDeps } from '../adapters/export/service.js';
import { runExport, type ExportDeps } from '../domain/interchange/export/job.js';
import type { Log, ObjectUrls } from '../domain/ports.js';
import { DEFAULT_EMBEDDER } from '../vision/default-embedder.js';

export function localExports(stores: AwsStores, bucket: string, embedder: string | undefined, log: Log, urls?: ObjectUrls) {
  let deps: ExportDeps | undefined;
  const runner = inProcessExportRunner((job) => runExport(deps!, job), log);
  // Without an embedder loaded: the one the cloud defaults to.
  const base = awsExportDeps(stores, { bucket, runner, defaultEmbeddingModel: embedder ?? DEFAULT_EMBEDDER, log });
  const objects = base.objects;
  deps = urls
    ? {
        ...base,
        objects: {
          create: (key, contentType, opts) => objects.create(key, contentType, opts),
          presignDownload: (key, fileName, ttl) => urls.getUrl(key, ttl, { downloadName: fileName }),
        },
      }
    : base;
  return { deps, idle: () => runner.idle() };
}
