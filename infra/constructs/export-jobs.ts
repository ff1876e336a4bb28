// Export and deletion jobs: the export queue (with DLQ) feeding the export Lambda, one message per invocation. The
// API posts `{ kind: 'export', projectId, exportId }` (the job streams its archive into `exports/` and records its
// outcome) and `{ kind: 'deletion', projectId, jobId }` (one slice of a deletion job, which puts itself back on
// this queue until it is done: functions/deletion/worker.ts). This function is the one that deletes what owners
// delete; the API only starts jobs. x86_64, with sharp (to write EXIF-rotated originals upright) copied from this
// checkout's node_modules.

import type { Duration } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
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
  readonly tables: { projects: Table; samples: Table; annotations: Table; labelers: Table };
  /** Retrains after a labeler's work is deleted (deletion jobs). */
  readonly trainerQueue: IQueue;
  /**
   * The function's whole environment (functions/adapters/aws/env.ts `functionEnvironment('export', ...)`), given
   * this construct's queue (an unfinished deletion job goes back on it).
   */
  readonly environment: (work: WorkQueue) => Record<string, string>;
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
    // A deletion slice ends (and puts its job back here) before the timeout; one killed anyway comes back after
    // the visibility timeout and resumes from the job's record.
    this.work = new WorkQueue(this, 'Work', { consumerTimeout: props.timeout });
    const fn = new NodeFunction(this, 'Exporter', {
      entry: props.entry,
      projectRoot: props.projectRoot,
      lockFile: props.lockFile,
      description: 'Winnow exports (COCO/VOC/YOLO/CSV/JSONL/folders/embeddings archives into the bucket) and deletion jobs',
      memoryMb: props.memoryMb,
      timeout: props.timeout,
      architecture: 'x86_64',
      nativePackages: [SHARP_LINUX_X64],
      environment: props.environment(this.work),
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.fn = fn.fn;
    this.fn.addEventSource(
      new SqsEventSource(this.work.queue, {
        // One job per invocation: an export may take the whole timeout, a deletion slice all but its margin.
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency,
      }),
    );
    // Reads labels; originals, embeddings and the archive with its status: FUNCTION_ACCESS.export says why.
    // Deletion jobs (and the retention sweep's) delete images with their samples, annotations and ranking rows, a
    // labeler's tally with their work, and a project's record and every item of it (domain/deletion.ts).
    for (const table of Object.values(props.tables)) table.grantReadWriteData(this.fn);
    // A slice of a deletion job that ran out of time puts the job back on this queue; retrain triggers.
    this.work.queue.grantSendMessages(this.fn);
    props.trainerQueue.grantSendMessages(this.fn);
    const objects = grantBucketAccess(props.bucket, this.fn, 'export');
    acknowledgeDataGrants(fn.identity.role, {
      bucket: props.bucket,
      ...objects,
      indexedTables: [props.tables.samples, props.tables.annotations],
    });
  }
}
