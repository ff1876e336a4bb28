// Storage: the data bucket and the DynamoDB tables (dev stage settings from cdk.json).

import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_SCHEMAS } from '../../functions/adapters/aws/schema.js';
import { logicalId, synthWinnow, type Synthesized } from './support/synth.js';

let s: Synthesized;
let bucket: Record<string, any>;

beforeAll(() => {
  s = synthWinnow({ stage: 'dev' });
  bucket = s.template.toJSON().Resources[logicalId(s.stack, s.stack.data.bucket)];
});
afterAll(() => s?.cleanup());

const lifecycleRule = (id: string) =>
  bucket.Properties.LifecycleConfiguration.Rules.find((r: { Id: string }) => r.Id === id);

describe('data bucket', () => {
  it('blocks every kind of public access', () => {
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
  });

  it('refuses requests without TLS', () => {
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(s.stack, s.stack.data.bucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('encrypts objects with S3-managed keys', () => {
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
    ]);
  });

  it('keeps object versions', () => {
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });

  it('aborts incomplete multipart uploads after one day', () => {
    expect(lifecycleRule('abort-incomplete-multipart')).toMatchObject({
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      Status: 'Enabled',
    });
  });

  it('expires noncurrent versions after the stage setting', () => {
    expect(lifecycleRule('expire-noncurrent-versions')).toMatchObject({
      NoncurrentVersionExpiration: { NoncurrentDays: s.config.storage.noncurrentVersionExpirationDays },
    });
  });

  it('expires originals under uploads/ after the stage setting', () => {
    expect(lifecycleRule('expire-uploads')).toMatchObject({
      Prefix: 'uploads/',
      ExpirationInDays: s.config.storage.uploadsExpirationDays,
    });
  });

  it('expires derived files under derived/ after the stage setting', () => {
    expect(lifecycleRule('expire-derived')).toMatchObject({
      Prefix: 'derived/',
      ExpirationInDays: s.config.storage.derivedExpirationDays,
    });
  });

  it('allows browser GET and PUT only from the web app and the configured dev origins', () => {
    const [rule, ...others] = bucket.Properties.CorsConfiguration.CorsRules;
    expect(others).toEqual([]);
    expect(rule.AllowedMethods.sort()).toEqual(['GET', 'PUT']);
    expect(rule.AllowedOrigins).toHaveLength(1 + s.config.extraWebOrigins.length);
    expect(rule.AllowedOrigins).not.toContain('*');
    expect(JSON.stringify(rule.AllowedOrigins[0])).toContain(logicalId(s.stack, s.stack.web.distribution));
  });

  it('writes server access logs to the log bucket', () => {
    expect(bucket.Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: logicalId(s.stack, s.stack.logs.bucket) },
      LogFilePrefix: 's3-access/data/',
    });
  });
});

describe('log bucket', () => {
  it('deletes access logs after the stage setting', () => {
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Id: 'expire-logs', ExpirationInDays: s.config.storage.accessLogExpirationDays }),
        ]),
      },
    });
  });
});

describe('tables', () => {
  const tableKeys = Object.keys(TABLE_SCHEMAS) as (keyof typeof TABLE_SCHEMAS)[];
  const table = (key: keyof typeof TABLE_SCHEMAS) =>
    s.template.toJSON().Resources[logicalId(s.stack, s.stack.tables.all()[key])];

  it('provisions one table per schema entry', () => {
    s.template.resourceCountIs('AWS::DynamoDB::Table', tableKeys.length);
  });

  it.each(tableKeys)('%s is billed on demand', (key) => {
    expect(table(key).Properties.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it.each(tableKeys)('%s has point-in-time recovery', (key) => {
    expect(table(key).Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
  });

  it.each(tableKeys)('%s is protected from deletion', (key) => {
    expect(table(key).Properties.DeletionProtectionEnabled).toBe(true);
  });

  it.each(tableKeys)('%s is retained when the stack is deleted, even on the destroy stage', (key) => {
    expect(table(key).DeletionPolicy).toBe('Retain');
    expect(table(key).UpdateReplacePolicy).toBe('Retain');
  });

  // Whether these tables serve the adapters (keys, attribute types, indexes) is tested by running the storage
  // contract on them: deployed-tables.test.ts.
});
