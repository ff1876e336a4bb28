// Ingest (S3 -> SQS -> container Lambda) and training (queue -> Lambda), dev stage.

import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logicalId, synthWinnow, type Synthesized } from './support/synth.js';

let s: Synthesized;
let resources: Record<string, any>;
const resource = (construct: { node: { defaultChild?: unknown } }) => resources[logicalId(s.stack, construct)];

beforeAll(() => {
  s = synthWinnow({ stage: 'dev' });
  resources = s.template.toJSON().Resources;
});
afterAll(() => s?.cleanup());

const eventSourceOf = (fn: { node: { defaultChild?: unknown } }) =>
  Object.values(resources).find(
    (r) => r.Type === 'AWS::Lambda::EventSourceMapping' && r.Properties.FunctionName.Ref === logicalId(s.stack, fn),
  );

describe('upload events', () => {
  it('send ObjectCreated and ObjectRemoved events under uploads/ to the ingest queue', () => {
    const toIngest = (event: string) => ({
      Events: [event],
      Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'uploads/' }] } },
      QueueArn: { 'Fn::GetAtt': [logicalId(s.stack, s.stack.ingest.work.queue), 'Arn'] },
    });
    s.template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: logicalId(s.stack, s.stack.data.bucket) },
      NotificationConfiguration: {
        // Removed: an original deleted directly (`aws s3 rm`) takes its image with everything derived.
        QueueConfigurations: [toIngest('s3:ObjectCreated:*'), toIngest('s3:ObjectRemoved:*')],
      },
    });
  });

  it('may be sent to the ingest queue only by the data bucket', () => {
    s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: logicalId(s.stack, s.stack.ingest.work.queue) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 's3.amazonaws.com' },
            Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [logicalId(s.stack, s.stack.data.bucket), 'Arn'] } } },
          }),
        ]),
      },
    });
  });
});

describe('queues', () => {
  const queues = () => [
    s.stack.ingest.work.queue,
    s.stack.ingest.work.deadLetterQueue,
    s.stack.trainer.work.queue,
    s.stack.trainer.work.deadLetterQueue,
    s.stack.exports.work.queue,
    s.stack.exports.work.deadLetterQueue,
  ];

  it('every queue refuses requests without TLS', () => {
    for (const queue of queues()) {
      s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalId(s.stack, queue) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('every queue is encrypted at rest', () => {
    for (const queue of queues()) expect(resource(queue).Properties.SqsManagedSseEnabled).toBe(true);
  });

  it('the ingest queue moves a message to its DLQ after 3 failed deliveries', () => {
    expect(resource(s.stack.ingest.work.queue).Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(s.stack, s.stack.ingest.work.deadLetterQueue), 'Arn'] },
      maxReceiveCount: 3,
    });
  });

  it('the trainer queue has its own DLQ', () => {
    expect(resource(s.stack.trainer.work.queue).Properties.RedrivePolicy.deadLetterTargetArn).toEqual({
      'Fn::GetAtt': [logicalId(s.stack, s.stack.trainer.work.deadLetterQueue), 'Arn'],
    });
  });

  it('dead letters are kept for 14 days', () => {
    for (const dlq of [s.stack.ingest.work.deadLetterQueue, s.stack.trainer.work.deadLetterQueue]) {
      expect(resource(dlq).Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    }
  });

  it('the ingest visibility timeout is at least 6x the function timeout', () => {
    const timeout = resource(s.stack.ingest.fn).Properties.Timeout;
    expect(resource(s.stack.ingest.work.queue).Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout);
  });

  it('the trainer visibility timeout is at least 6x the function timeout', () => {
    const timeout = resource(s.stack.trainer.fn).Properties.Timeout;
    expect(resource(s.stack.trainer.work.queue).Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout);
  });

  it('the trainer queue accepts messages without a message group (senders post plain messages)', () => {
    expect(resource(s.stack.trainer.work.queue).Properties.FifoQueue).toBeUndefined();
  });
});

describe('ingest function', () => {
  it('runs from a container image', () => {
    expect(resource(s.stack.ingest.fn).Properties.PackageType).toBe('Image');
  });

  it('gets memory and timeout from the stage settings', () => {
    expect(resource(s.stack.ingest.fn).Properties).toMatchObject({
      MemorySize: s.config.ingest.memoryMb,
      Timeout: s.config.ingest.timeoutSeconds,
    });
  });

  it('reads batches of upload events and reports failed messages one by one', () => {
    expect(eventSourceOf(s.stack.ingest.fn).Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [logicalId(s.stack, s.stack.ingest.work.queue), 'Arn'] },
      BatchSize: s.config.ingest.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('is capped at the stage maximum concurrency', () => {
    expect(eventSourceOf(s.stack.ingest.fn).Properties.ScalingConfig).toEqual({
      MaximumConcurrency: s.config.ingest.maxConcurrency,
    });
  });

  it('knows the table, bucket and trainer queue names from its environment', () => {
    const env = resource(s.stack.ingest.fn).Properties.Environment.Variables;
    expect(Object.keys(env).sort()).toEqual(
      expect.arrayContaining([
        'WINNOW_BUCKET',
        'WINNOW_PROJECTS_TABLE',
        'WINNOW_SAMPLES_TABLE',
        'WINNOW_ANNOTATIONS_TABLE',
        'WINNOW_LABELERS_TABLE',
        'WINNOW_TRAINER_QUEUE_URL',
      ]),
    );
  });
});

describe('export function', () => {
  it('runs one job per invocation from its own queue and reports a failed job', () => {
    expect(eventSourceOf(s.stack.exports.fn).Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [logicalId(s.stack, s.stack.exports.work.queue), 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: s.config.exports.maxConcurrency },
    });
  });

  it('has a visibility timeout of at least 6x its timeout and its own DLQ', () => {
    const timeout = resource(s.stack.exports.fn).Properties.Timeout;
    expect(resource(s.stack.exports.work.queue).Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout);
    expect(resource(s.stack.exports.work.queue).Properties.RedrivePolicy.deadLetterTargetArn).toEqual({
      'Fn::GetAtt': [logicalId(s.stack, s.stack.exports.work.deadLetterQueue), 'Arn'],
    });
  });

  it('runs on x86_64 (the architecture of the sharp binaries it ships)', () => {
    expect(resource(s.stack.exports.fn).Properties.Architectures).toEqual(['x86_64']);
  });

  // Deletion jobs (issue 16): the API queues them, a slice that runs out of time puts its job back on the same queue.
  it('knows its own queue (unfinished deletion jobs go back on it) and the trainer queue from its environment', () => {
    const env = resource(s.stack.exports.fn).Properties.Environment.Variables;
    expect(env.WINNOW_EXPORT_QUEUE_URL).toEqual({ Ref: logicalId(s.stack, s.stack.exports.work.queue) });
    expect(env.WINNOW_TRAINER_QUEUE_URL).toEqual({ Ref: logicalId(s.stack, s.stack.trainer.work.queue) });
  });

  it('is where the API sends deletion jobs', () => {
    const env = resource(s.stack.api.fn).Properties.Environment.Variables;
    expect(env.WINNOW_EXPORT_QUEUE_URL).toEqual({ Ref: logicalId(s.stack, s.stack.exports.work.queue) });
  });
});

describe('trainer function', () => {
  it('reads its queue and reports failed messages one by one', () => {
    expect(eventSourceOf(s.stack.trainer.fn).Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [logicalId(s.stack, s.stack.trainer.work.queue), 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('gathers a burst of training requests into one invocation', () => {
    expect(eventSourceOf(s.stack.trainer.fn).Properties).toMatchObject({
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 10,
    });
  });

  it('runs at most two pollers at once (the fewest SQS allows; one trainer per project is a lease)', () => {
    expect(eventSourceOf(s.stack.trainer.fn).Properties.ScalingConfig).toEqual({ MaximumConcurrency: 2 });
  });

  it('may write the samples table (ranking and lease items) conditionally', () => {
    const policies = Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy');
    const actions = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).flatMap((st: any) => [st.Action].flat());
    expect(actions).toContain('dynamodb:UpdateItem');
  });

  it('is a bundled Node.js function on arm64', () => {
    expect(resource(s.stack.trainer.fn).Properties).toMatchObject({
      Runtime: expect.stringMatching(/^nodejs\d+\.x$/),
      Architectures: ['arm64'],
      Handler: 'index.handler',
    });
  });
});
