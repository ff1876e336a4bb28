// The bucket holding originals (`uploads/`), derived images, embedding shards and exports. Private: browsers
// reach objects only through short-lived presigned URLs issued by the API.

import { Duration } from 'aws-cdk-lib';
import { Bucket, HttpMethods, type IBucket, type LifecycleRule } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { privateBucketDefaults, type StageRemovalPolicy } from './bucket-defaults.js';
import { PREFIXES } from './bucket-prefixes.js';

export interface DataBucketProps {
  /**
   * Physical bucket name. Fixed up front (from stage, account and region) so the web app's Content-Security-Policy
   * can name the bucket's host without a dependency cycle through CloudFront.
   */
  readonly bucketName: string;
  readonly accessLogs: IBucket;
  /** Expire originals after N days. @default - kept */
  readonly uploadsExpirationDays?: number;
  /** Expire derived files after N days (they can be rebuilt from the originals). @default - kept */
  readonly derivedExpirationDays?: number;
  readonly noncurrentVersionExpirationDays: number;
  readonly removalPolicy: StageRemovalPolicy;
}

export class DataBucket extends Construct {
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: DataBucketProps) {
    super(scope, id);
    this.bucket = new Bucket(this, 'Bucket', {
      ...privateBucketDefaults(props.removalPolicy),
      bucketName: props.bucketName,
      versioned: true,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: 's3-access/data/',
      lifecycleRules: lifecycleRules(props),
    });
  }

  /** Browsers upload with presigned PUT and read with presigned GET, only from the web app's origins. */
  allowBrowserOrigins(origins: string[]): void {
    this.bucket.addCorsRule({
      allowedOrigins: origins,
      allowedMethods: [HttpMethods.GET, HttpMethods.PUT],
      // Content-Type is part of the presigned PUT signature; the SDK may add checksum headers.
      allowedHeaders: ['content-type', 'content-md5', 'x-amz-*'],
      exposedHeaders: ['ETag'],
      maxAge: 3000,
    });
  }
}

function lifecycleRules(props: DataBucketProps): LifecycleRule[] {
  const rules: LifecycleRule[] = [
    { id: 'abort-incomplete-multipart', abortIncompleteMultipartUploadAfter: Duration.days(1) },
    {
      id: 'expire-noncurrent-versions',
      noncurrentVersionExpiration: Duration.days(props.noncurrentVersionExpirationDays),
    },
    { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
  ];
  if (props.uploadsExpirationDays !== undefined) {
    rules.push({
      id: 'expire-uploads',
      prefix: PREFIXES.uploads,
      expiration: Duration.days(props.uploadsExpirationDays),
    });
  }
  if (props.derivedExpirationDays !== undefined) {
    rules.push({ id: 'expire-derived', prefix: PREFIXES.derived, expiration: Duration.days(props.derivedExpirationDays) });
  }
  return rules;
}
