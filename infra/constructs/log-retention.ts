// Log retention everywhere, including the Lambda functions CDK adds on its own (S3 notification and auto-delete
// handlers, custom resource providers), which otherwise log into groups that keep everything forever: any
// function without a log group of its own gets one, with the stage's retention, created before the function.

import { CfnResource, type IAspect, Stack } from 'aws-cdk-lib';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import { removalPolicyOf, type StageRemovalPolicy } from './bucket-defaults.js';

export class LogRetentionEverywhere implements IAspect {
  constructor(
    private readonly retention: RetentionDays,
    private readonly removalPolicy: StageRemovalPolicy,
  ) {}

  visit(node: IConstruct): void {
    if (!(node instanceof CfnResource) || node.cfnResourceType !== 'AWS::Lambda::Function') return;
    if (node instanceof CfnFunction && node.loggingConfig) return; // has its own (every Winnow function does)
    const scope = node.node.scope;
    if (!scope || scope.node.tryFindChild(`${node.node.id}Logs`)) return;
    const group = new LogGroup(scope, `${node.node.id}Logs`, {
      retention: this.retention,
      removalPolicy: removalPolicyOf(this.removalPolicy),
    });
    node.addPropertyOverride('LoggingConfig', { LogGroup: Stack.of(node).resolve(group.logGroupName) });
    node.node.addDependency(group);
  }
}
