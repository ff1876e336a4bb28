// Training runs: the trainer queue (with DLQ) feeding the trainer Lambda. Senders post `{ projectId, sampleIds? }`
// (functions/adapters/aws/trainer-queue.ts); the batching window collects a burst of label events into one
// invocation, which retrains each project once. Export jobs ride the same queue (`{ kind: 'export', ... }`, posted
// by the API): they need the same long timeout and memory, and sharp to turn EXIF-rotated images upright.

import { Duration } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeDataGrants } from '../nag.js';
import type { StageRemovalPolicy } from './bucket-defaults.js';
import { PREFIXES, under } from './bucket-prefixes.js';
import { NodeFunction } from './node-function.js';
import { WorkQueue } from './work-queue.js';

export interface TrainerProps {
  readonly entry: string;
  readonly projectRoot: string;
  readonly lockFile: string;
  readonly bucket: Bucket;
  readonly projects: Table;
  readonly samples: Table;
  readonly annotations: Table;
  readonly environment: Record<string, string>;
  readonly memoryMb: number;
  readonly timeout: Duration;
  /** Reserve 1 to run retrains strictly one at a time. @default - unreserved */
  readonly reservedConcurrency?: number;
  /** How long the poller gathers messages before invoking. @default 10 seconds */
  readonly batchingWindow?: Duration;
  readonly logRetention: RetentionDays;
  readonly removalPolicy: StageRemovalPolicy;
}

export class Trainer extends Construct {
  readonly fn: NodejsFunction;
  readonly work: WorkQueue;

  constructor(scope: Construct, id: string, props: TrainerProps) {
    super(scope, id);
    this.work = new WorkQueue(this, 'Work', { visibilityTimeout: Duration.seconds(6 * props.timeout.toSeconds()) });
    const trainer = new NodeFunction(this, 'Trainer', {
      entry: props.entry,
      projectRoot: props.projectRoot,
      lockFile: props.lockFile,
      description: 'Winnow trainer: fits the classifier on embeddings and ranks the labeling queue',
      memoryMb: props.memoryMb,
      timeout: props.timeout,
      reservedConcurrency: props.reservedConcurrency,
      nativeModules: ['sharp'],
      environment: props.environment,
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.fn = trainer.fn;
    this.fn.addEventSource(
      new SqsEventSource(this.work.queue, {
        batchSize: 10,
        maxBatchingWindow: props.batchingWindow ?? Duration.seconds(10),
        reportBatchItemFailures: true,
        // The fewest pollers SQS allows: retrains of one project rarely overlap even without reserved concurrency.
        maxConcurrency: 2,
      }),
    );

    // Reads labels and embeddings, writes scores and queue keys back to the samples.
    props.bucket.grantReadWrite(this.fn, under(PREFIXES.embeddings));
    props.projects.grantReadData(this.fn);
    props.samples.grantReadWriteData(this.fn);
    props.annotations.grantReadData(this.fn);
    // Exports: read originals to copy them into archives; write the export file (multipart) and its status.
    props.bucket.grantRead(this.fn, under(PREFIXES.uploads));
    props.bucket.grantReadWrite(this.fn, under(PREFIXES.exports));
    acknowledgeDataGrants(trainer.identity.role, {
      bucket: props.bucket,
      objectPatterns: [under(PREFIXES.embeddings), under(PREFIXES.uploads), under(PREFIXES.exports)],
      s3Actions: ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:Abort*', 's3:DeleteObject*'],
      indexedTables: [props.samples, props.annotations],
    });
  }
}
