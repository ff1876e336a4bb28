// Composition of the export adapters over the AWS stores (S3 or s3rver): used by the local stack, the API Lambda
// (to start jobs and hand out links) and the trainer Lambda (to run them).

import type { AwsStores } from '../aws/clients.js';
import type { ExportDeps } from '../../domain/interchange/export/job.js';
import type { ExportRunner } from '../../domain/interchange/export/ports.js';
import type { Log } from '../../domain/ports.js';
import { shardSource } from './embedding-shards.js';
import { sharpImageFiles } from './images.js';
import { S3ExportObjects } from './s3-objects.js';
import { zipArchive } from './zip.js';

export interface ExportServiceOptions {
  bucket: string;
  /** Absent where jobs only run (the trainer function). */
  runner?: ExportRunner;
  /** The analyzer's embedder: the model whose vectors a project without its own `embedding.model` has. */
  defaultEmbeddingModel: string;
  downloadTtlSeconds?: number;
  log?: Log;
}

export function awsExportDeps(stores: AwsStores, opts: ExportServiceOptions): ExportDeps {
  const objects = new S3ExportObjects(stores.clients.s3, opts.bucket);
  return {
    stores,
    objects,
    createArchive: (sink) => zipArchive(sink, { mtime: new Date(stores.clock.now()) }),
    images: sharpImageFiles(stores.blobs),
    embeddings: shardSource(stores.blobs, (key, start, end) => objects.readRange(key, start, end)),
    defaultEmbeddingModel: opts.defaultEmbeddingModel,
    runner: opts.runner,
    bucket: opts.bucket,
    downloadTtlSeconds: opts.downloadTtlSeconds,
    log: opts.log,
  };
}
