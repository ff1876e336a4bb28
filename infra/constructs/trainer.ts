// Training runs: the trainer queue (with DLQ) feeding the trainer Lambda. Senders post `{ projectId, sampleIds? }`
// (functions/adapters/aws/trainer-queue.ts, one message per project per invocation); the batching window collects
// a burst into one invocation, which retrains each project once. Two pollers (the fewest SQS allows) may run at
// once: a lease per project in the samples table keeps one trainer per project, and the ranking write is
// conditional on its generation (functions/adapters/aws/trainer-lease.ts, rankings.ts).

import { Duration } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { TRAINER_POLLERS } from '../config.js';
import { acknowledgeDataGrants } from '../nag.js';
import type { StageRemovalPolicy } from './bucket-defaults.js';
import { grantBucketAccess } from './bucket-prefixes.js';
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
  /** The function's whole environment (functions/adapters/aws/env.ts `functionEnvironment('trainer', ...)`). */
  readonly environment: Record<string, string>;
  readonly memoryMb: number;
  readonly timeout: Duration;
  /** At least the event source's pollers (2). @default - unreserved */
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
    this.work = new WorkQueue(this, 'Work', { consumerTimeout: props.timeout });
    const trainer = new NodeFunction(this, 'Trainer', {
      entry: props.entry,
      projectRoot: props.projectRoot,
      lockFile: props.lockFile,
      description: 'Winnow trainer: fits the classifier on embeddings and ranks the labeling queue',
      memoryMb: props.memoryMb,
      timeout: props.timeout,
      reservedConcurrency: props.reservedConcurrency,
      // Retrains never decode images (embeddings only); exports, which do, run in their own function.
      unusedModules: ['sharp'],
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
        maxConcurrency: TRAINER_POLLERS,
      }),
    );

    // Embeddings (read, compacted), the saved classifier and the auto-label basis: FUNCTION_ACCESS.trainer says why.
    const objects = grantBucketAccess(props.bucket, this.fn, 'trainer');
    // Reads projects and labels, writes the ranking and the lease.
    props.projects.grantReadData(this.fn);
    props.samples.grantReadWriteData(this.fn);
    // Label history, for reviews of likely mislabeled samples.
    props.annotations.grantReadData(this.fn);
    acknowledgeDataGrants(trainer.identity.role, {
      bucket: props.bucket,
      ...objects,
      indexedTables: [props.samples, props.annotations],
    });
  }
}
