// An SQS queue with a dead-letter queue: messages that keep failing land in the DLQ, where they stay visible
// (never swallowed) for two weeks. TLS only, encrypted with SQS-managed keys (S3 notifications can publish to it).

import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface WorkQueueProps {
  /** The consuming function's timeout: messages stay invisible 6x as long (AWS guidance for SQS event sources). */
  readonly consumerTimeout: Duration;
  /** Deliveries before a message moves to the DLQ. @default 3 */
  readonly maxReceiveCount?: number;
}

export class WorkQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);
    const common = {
      enforceSSL: true,
      encryption: QueueEncryption.SQS_MANAGED,
      // Queues hold only work in flight; nothing to keep when the stack goes.
      removalPolicy: RemovalPolicy.DESTROY,
    };
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      ...common,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new Queue(this, 'Queue', {
      ...common,
      visibilityTimeout: Duration.seconds(6 * props.consumerTimeout.toSeconds()),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 3 },
    });
  }
}
