// The settings every Winnow bucket shares: private, TLS only, encrypted at rest, owned by the account.

import { RemovalPolicy } from 'aws-cdk-lib';
import { BlockPublicAccess, BucketEncryption, type BucketProps } from 'aws-cdk-lib/aws-s3';

export type StageRemovalPolicy = 'retain' | 'destroy';

export function privateBucketDefaults(removal: StageRemovalPolicy): BucketProps {
  return {
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    encryption: BucketEncryption.S3_MANAGED,
    removalPolicy: removal === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    // A versioned bucket with objects cannot be deleted by CloudFormation alone; empty it first on `destroy`.
    autoDeleteObjects: removal === 'destroy',
  };
}

export function removalPolicyOf(removal: StageRemovalPolicy): RemovalPolicy {
  return removal === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
}
