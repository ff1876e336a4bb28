// One bucket for access logs: S3 server access logs of the data and site buckets, and CloudFront standard logs.

import { Duration } from 'aws-cdk-lib';
import { Bucket, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { privateBucketDefaults, type StageRemovalPolicy } from './bucket-defaults.js';

export interface LogBucketProps {
  /** Log objects are deleted after this many days (storage must not grow forever). */
  readonly expirationDays: number;
  readonly removalPolicy: StageRemovalPolicy;
}

export class LogBucket extends Construct {
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: LogBucketProps) {
    super(scope, id);
    this.bucket = new Bucket(this, 'Bucket', {
      ...privateBucketDefaults(props.removalPolicy),
      // CloudFront standard logging still delivers through ACLs; S3 server access logs use the bucket policy.
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [
        { id: 'expire-logs', expiration: Duration.days(props.expirationDays) },
        { id: 'abort-incomplete-multipart', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
  }
}
