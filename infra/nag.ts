// cdk-nag (AwsSolutions) runs on every synth; an unacknowledged finding stops synthesis. Every acknowledgement
// names the exact finding (cdk-nag v3 ids: `AwsSolutions::AwsSolutions-<rule>[<finding>]`) and says why.

import { App, CfnResource, Stack, Token, Validations } from 'aws-cdk-lib';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

export function addNagChecks(app: App): AwsSolutionsChecks {
  const checks = new AwsSolutionsChecks(app);
  Validations.of(app).addPlugins(checks);
  return checks;
}

export const finding = {
  rule: (rule: string) => `AwsSolutions::AwsSolutions-${rule}`,
  wildcardAction: (action: string) => `AwsSolutions::AwsSolutions-IAM5[Action::${action}]`,
  wildcardResource: (resource: string) => `AwsSolutions::AwsSolutions-IAM5[Resource::${resource}]`,
  managedPolicy: (name: string) =>
    `AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${name}]`,
};

/** Acknowledges findings on a construct and its children: finding id -> reason. */
export function acknowledge(scope: IConstruct, findings: Record<string, string>): void {
  for (const [id, reason] of Object.entries(findings)) Validations.of(scope).acknowledge({ id, reason });
}

/** How cdk-nag prints a resource's ARN: `<LogicalId.Arn>`. */
export function arnOf(construct: IConstruct): string {
  const cfn = construct.node.defaultChild as CfnResource;
  return `<${Stack.of(construct).getLogicalId(cfn)}.Arn>`;
}

/** The wildcard actions that `bucket.grantRead/grantPut/grantReadWrite` expand to. */
export const S3_GRANT_ACTIONS = {
  's3:GetObject*': 'bucket.grantRead: GetObject and its version/attribute reads, only on the object prefixes acknowledged on this role',
  's3:GetBucket*': 'bucket.grantRead: metadata reads (location, versioning) of this one bucket',
  's3:List*': 'bucket.grantRead: listing this one bucket, to page through a project folder',
  's3:Abort*': 'bucket.grantPut/grantReadWrite: abort this role\'s own multipart uploads under the acknowledged prefixes',
  's3:DeleteObject*': 'bucket.grantReadWrite: replace or remove objects under the acknowledged prefixes (compaction, cleanup)',
} as const;

export interface DataGrants {
  /** Data bucket and the `grant*` object patterns (e.g. `uploads/*`) given to the role. */
  readonly bucket?: IConstruct;
  readonly objectPatterns?: string[];
  readonly s3Actions?: (keyof typeof S3_GRANT_ACTIONS)[];
  /** Tables with global secondary indexes the role queries (`grant*Data` adds `<table>/index/*`). */
  readonly indexedTables?: IConstruct[];
}

/** Acknowledges the wildcards that least-privilege `grant*` calls still produce, on one function's role. */
export function acknowledgeDataGrants(role: IConstruct, grants: DataGrants): void {
  const findings: Record<string, string> = {};
  for (const action of grants.s3Actions ?? []) findings[finding.wildcardAction(action)] = S3_GRANT_ACTIONS[action];
  if (grants.bucket) {
    for (const pattern of grants.objectPatterns ?? []) {
      findings[finding.wildcardResource(`${arnOf(grants.bucket)}/${pattern}`)] =
        `Objects under one top-level folder of the data bucket (${pattern}); folders separate originals, derived ` +
        'images, embeddings and exports so each function gets only the ones it uses';
    }
  }
  for (const table of grants.indexedTables ?? []) {
    findings[finding.wildcardResource(`${arnOf(table)}/index/*`)] =
      'Queries on the global secondary indexes of this one table (added by grant*Data)';
  }
  acknowledge(role, findings);
}

const CUSTOM_RESOURCE_LOGS =
  'CDK-provided deployment-time custom resource; the managed policy only lets it write its CloudWatch logs';

/** S3 notification wiring: CDK adds one handler per stack that configures the bucket at deploy time. */
export function acknowledgeBucketNotificationsHandler(stack: Stack): void {
  for (const child of stack.node.children) {
    if (!child.node.id.startsWith('BucketNotificationsHandler')) continue;
    acknowledge(child, { [finding.managedPolicy('AWSLambdaBasicExecutionRole')]: CUSTOM_RESOURCE_LOGS });
  }
}

/** The BucketDeployment handler CDK adds to copy the web build into the site bucket and invalidate CloudFront. */
export function acknowledgeBucketDeploymentHandler(stack: Stack, siteBucket: IConstruct): void {
  const qualifier = stack.node.tryGetContext('@aws-cdk/core:bootstrapQualifier') ?? 'hnb659fds';
  for (const child of stack.node.children) {
    if (!child.node.id.startsWith('Custom::CDKBucketDeployment')) continue;
    acknowledge(child, {
      [finding.managedPolicy('AWSLambdaBasicExecutionRole')]: CUSTOM_RESOURCE_LOGS,
      [finding.rule('L1')]: 'The BucketDeployment handler runtime is chosen and updated by aws-cdk-lib',
      ...Object.fromEntries(
        Object.entries(S3_GRANT_ACTIONS).map(([action]) => [
          finding.wildcardAction(action),
          'BucketDeployment copies the staged web build from the CDK assets bucket into the site bucket',
        ]),
      ),
      [finding.wildcardResource(`${cdkAssetsBucketArn(stack, qualifier)}/*`)]:
        'Reads the zipped web build from the CDK bootstrap assets bucket (asset keys are content hashes)',
      [finding.wildcardResource(`${arnOf(siteBucket)}/*`)]: 'Writes and prunes every file of the site bucket',
      [finding.wildcardResource('*')]:
        'BucketDeployment grants cloudfront:CreateInvalidation/GetInvalidation on * (not configurable); it only ' +
        'invalidates the distribution it is given',
    });
  }
}

/** The bootstrap assets bucket ARN as cdk-nag prints it: literal where the stack pins account/region. */
function cdkAssetsBucketArn(stack: Stack, qualifier: string): string {
  const pinned = (value: string, placeholder: string) => (Token.isUnresolved(value) ? placeholder : value);
  const region = pinned(stack.region, '<AWS::Region>');
  const partition = Token.isUnresolved(stack.region)
    ? '<AWS::Partition>'
    : (RegionInfo.get(stack.region).partition ?? '<AWS::Partition>');
  return `arn:${partition}:s3:::cdk-${qualifier}-assets-${pinned(stack.account, '<AWS::AccountId>')}-${region}`;
}
