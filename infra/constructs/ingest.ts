// Upload -> S3 ObjectCreated on `uploads/` -> SQS (with DLQ) -> ingest Lambda (container image with sharp,
// onnxruntime and the model weights). Failed records are reported per message and retried, then dead-lettered.

import { Annotations, Duration, IgnoreMode, Stack } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import { Architecture, DockerImageCode, DockerImageFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { EventType, type Bucket } from 'aws-cdk-lib/aws-s3';
import { SqsDestination } from 'aws-cdk-lib/aws-s3-notifications';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ModelWeights } from '../model-weights.js';
import { acknowledgeBucketNotificationsHandler, acknowledgeDataGrants } from '../nag.js';
import type { StageRemovalPolicy } from './bucket-defaults.js';
import { grantBucketAccess, PREFIXES } from './bucket-prefixes.js';
import { FunctionIdentity } from './function-identity.js';
import { WorkQueue } from './work-queue.js';

/** Never part of the image's build context, whatever `.dockerignore` says (keeps the asset hash stable). */
export const DOCKER_CONTEXT_EXCLUDES = [
  '**/node_modules',
  '**/cdk.out',
  '**/.winnow',
  '**/test-output',
  '**/.git',
  '**/*.onnx',
];

export interface IngestProps {
  readonly bucket: Bucket;
  readonly projects: Table;
  readonly samples: Table;
  readonly trainerQueue: IQueue;
  /** The export queue: the deletion job of an original removed from the bucket is sent there (send only). */
  readonly exportQueue: IQueue;
  /** The function's whole environment (functions/adapters/aws/env.ts `functionEnvironment('ingest', ...)`). */
  readonly environment: Record<string, string>;
  /** Docker build context (the repository root) and the Dockerfile inside it. */
  readonly buildContext: string;
  readonly dockerfile: string;
  /** Weights baked into the image; absent = an image without weights (ingest reports them missing). */
  readonly modelWeights?: ModelWeights;
  readonly memoryMb: number;
  readonly timeout: Duration;
  /** SQS messages per invocation. */
  readonly batchSize: number;
  readonly maxConcurrency: number;
  /** @default - unreserved */
  readonly reservedConcurrency?: number;
  readonly architecture: 'x86_64' | 'arm64';
  readonly logRetention: RetentionDays;
  readonly removalPolicy: StageRemovalPolicy;
}

export class Ingest extends Construct {
  readonly fn: DockerImageFunction;
  readonly work: WorkQueue;

  constructor(scope: Construct, id: string, props: IngestProps) {
    super(scope, id);
    this.work = new WorkQueue(this, 'Work', { consumerTimeout: props.timeout });
    const identity = new FunctionIdentity(this, 'Identity', {
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    const arm = props.architecture === 'arm64';
    this.fn = new DockerImageFunction(this, 'Function', {
      description: 'Winnow ingest: decode, thumbnail, embed and detect uploaded images',
      code: DockerImageCode.fromImageAsset(props.buildContext, {
        file: props.dockerfile,
        ignoreMode: IgnoreMode.DOCKER,
        exclude: DOCKER_CONTEXT_EXCLUDES,
        platform: arm ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
        buildContexts: props.modelWeights ? { 'model-weights': props.modelWeights.dir } : undefined,
        // The weights folder's absolute path differs per machine; its content hash identifies the image instead.
        invalidation: { buildContexts: false },
        extraHash: props.modelWeights ? `model-weights:${props.modelWeights.contentHash}` : 'model-weights:none',
      }),
      architecture: arm ? Architecture.ARM_64 : Architecture.X86_64,
      memorySize: props.memoryMb,
      timeout: props.timeout,
      reservedConcurrentExecutions: props.reservedConcurrency,
      role: identity.role,
      logGroup: identity.logGroup,
      environment: props.environment,
    });

    if (!props.modelWeights) {
      Annotations.of(this).addWarningV2(
        'winnow:model-weights-missing',
        'The model weights folder (stage setting modelWeightsDir) was not found: the ingest image will have no ' +
          'models and will mark images as missing them. Fetch the weights before `npm run deploy`.',
      );
    }

    props.bucket.addEventNotification(EventType.OBJECT_CREATED, new SqsDestination(this.work.queue), {
      prefix: PREFIXES.uploads,
    });
    // An original removed directly (`aws s3 rm`): the handler deletes its image with everything derived.
    props.bucket.addEventNotification(EventType.OBJECT_REMOVED, new SqsDestination(this.work.queue), {
      prefix: PREFIXES.uploads,
    });
    acknowledgeBucketNotificationsHandler(Stack.of(this));
    this.fn.addEventSource(
      new SqsEventSource(this.work.queue, {
        batchSize: props.batchSize,
        maxBatchingWindow: Duration.seconds(5),
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency,
      }),
    );

    // Least privilege: originals, derived files, embedding shards, registered models and the deletion job records of
    // removed originals, as FUNCTION_ACCESS.ingest says and why; images and samples in the tables. No label table:
    // an original removed from the bucket has its deletion job run by the export function (sent on its queue).
    const objects = grantBucketAccess(props.bucket, this.fn, 'ingest');
    props.projects.grantReadData(this.fn);
    props.samples.grantReadWriteData(this.fn);
    props.trainerQueue.grantSendMessages(this.fn);
    props.exportQueue.grantSendMessages(this.fn);
    acknowledgeDataGrants(identity.role, {
      bucket: props.bucket,
      ...objects,
      indexedTables: [props.samples],
    });
  }
}
