// A function's own log group and role. The role may write only to that log group (instead of the broad
// AWSLambdaBasicExecutionRole managed policy); every other permission comes from `grant*` calls.

import { ServicePrincipal, Role } from 'aws-cdk-lib/aws-iam';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { removalPolicyOf, type StageRemovalPolicy } from './bucket-defaults.js';

export interface FunctionIdentityProps {
  readonly logRetention: RetentionDays;
  readonly removalPolicy: StageRemovalPolicy;
}

export class FunctionIdentity extends Construct {
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: FunctionIdentityProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: removalPolicyOf(props.removalPolicy),
    });
    this.role = new Role(this, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    this.logGroup.grantWrite(this.role);
  }
}
