// Export jobs: the export queue (with DLQ) feeding the export Lambda, one job per invocation. The API posts
// `{ kind: 'export', projectId, exportId }`; the job streams its archive into `exports/` and records its outcome.
// x86_64, with sharp (to write EXIF-rotated originals upright) copied from this checkout's node_modules.

import type { Duration } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeDataGrants } from '../nag.js';
import type { StageRemovalPolicy } from './bucket-defaults.js';
import { grantBucketAccess } from './bucket-prefixes.js';
import { NodeFunction } from './node-function.js';
import { WorkQueue } from './work-queue.js';

/** sharp and what it loads at run time, for Linux x64 (glibc), as installed by `npm ci` on a Linux x64 machine. */
export const SHARP_LINUX_X64 = {
  name: 'sharp',
  folders: ['sharp', '@img/colour', 'detect-libc', 'semver', '@img/sharp-linux-x64', '@img/sharp-libvips-linux-x64'],
};

export interface ExportJobsProps {
  readonly entry: string;
  readonly projectRoot: string;
  readonly lockFile: string;
  readonly bucket: Bucket;
  readonly tables: { projects: Table; samples: Table; annotations: Table };
  /** The function's whole environment (functions/adapters/aws/env.ts `functionEnvironment('export', ...)`). */
  readonly environment: Record<string, string>;
  readonly memoryMb: number;
  readonly timeout: Duration;
  readonly maxConcurrency: number;
  readonly logRetention: RetentionDays;
  readonly removalPolicy: StageRemovalPolicy;
}

export class ExportJobs extends Construct {
  readonly fn: NodejsFunction;
  readonly work: WorkQueue;

  constructor(scope: Construct, id: string, props: ExportJobsProps) {
    super(scope, id);
    this.work = new WorkQueue(this, 'Work', { consumerTimeout: props.timeout });
    const fn = new NodeFunction(this, 'Exporter', {
      entry: props.entry,
      projectRoot: props.projectRoot,
      lockFile: props.lockFile,
      description: 'Winnow exports: streams COCO/VOC/YOLO/CSV/JSONL/folders/embeddings archives into the bucket',
      memoryMb: props.memoryMb,
      timeout: props.timeout,
      architecture: 'x86_64',
      nativePackages: [SHARP_LINUX_X64],
      environment: props.environment,
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.fn = fn.fn;
    this.fn.addEventSource(
      new SqsEventSource(this.work.queue, {
        // One job per invocation: a job may take the whole timeout.
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency,
      }),
    );
    // Reads labels; originals, embeddings and the archive with its status: FUNCTION_ACCESS.export says why. The
    // retention sweep after each job deletes images with their samples and annotations (domain/retention.ts).
    props.tables.projects.grantReadData(this.fn);
    props.tables.samples.grantReadWriteData(this.fn);
    props.tables.annotations.grantReadWriteData(this.fn);
    const objects = grantBucketAccess(props.bucket, this.fn, 'export');
    acknowledgeDataGrants(fn.identity.role, {
      bucket: props.bucket,
      ...objects,
      indexedTables: [props.tables.samples, props.tables.annotations],
    });
  }
}
