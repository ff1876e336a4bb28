// Who may use Winnow: a Cognito user pool without self sign-up (owners invite labelers), groups that the API
// maps to roles, and the web app's public client.

import { Duration } from 'aws-cdk-lib';
import {
  AccountRecovery,
  FeaturePlan,
  Mfa,
  UserPool,
  UserPoolClient,
  type UserPoolGroup,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { acknowledge, finding } from '../nag.js';
import { removalPolicyOf, type StageRemovalPolicy } from './bucket-defaults.js';

/** Group names the API checks in the `cognito:groups` claim. */
export const GROUPS = { admin: 'admin', labeler: 'labeler' } as const;

export interface AuthProps {
  readonly removalPolicy: StageRemovalPolicy;
  /** Access and id token lifetime. @default 30 minutes */
  readonly tokenValidity?: Duration;
  /** Refresh token lifetime: how long a labeling session lasts without signing in again. @default 12 hours */
  readonly refreshTokenValidity?: Duration;
}

export class Auth extends Construct {
  readonly userPool: UserPool;
  readonly webClient: UserPoolClient;
  readonly groups: Record<keyof typeof GROUPS, UserPoolGroup>;

  constructor(scope: Construct, id: string, props: AuthProps) {
    super(scope, id);
    const retain = props.removalPolicy === 'retain';
    this.userPool = new UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
        passwordHistorySize: 5,
      },
      mfa: Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      featurePlan: FeaturePlan.ESSENTIALS,
      userInvitation: {
        emailSubject: 'You are invited to label images in Winnow',
        emailBody:
          'Your Winnow user name is {username} and your temporary password is {####}. ' +
          'You will choose a new password when you first sign in.',
      },
      deletionProtection: retain,
      removalPolicy: removalPolicyOf(props.removalPolicy),
    });
    acknowledge(this.userPool, {
      [finding.rule('COG2')]:
        'MFA is available (TOTP) but optional, so invited labelers can start without an authenticator app; ' +
        'switch to Mfa.REQUIRED for stricter deployments',
      [finding.rule('COG8')]:
        'The Plus plan (threat protection) is billed per active user; Essentials with no self sign-up, a strong ' +
        'password policy and optional TOTP fits a small invited team',
    });
    this.groups = {
      admin: this.userPool.addGroup('Admins', {
        groupName: GROUPS.admin,
        description: 'Create projects, invite labelers, export labels',
        precedence: 0,
      }),
      labeler: this.userPool.addGroup('Labelers', {
        groupName: GROUPS.labeler,
        description: 'Label the projects they are members of',
        precedence: 10,
      }),
    };
    this.webClient = this.userPool.addClient('WebClient', {
      // A browser cannot keep a secret.
      generateSecret: false,
      authFlows: { userSrp: true, userPassword: true },
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: props.tokenValidity ?? Duration.minutes(30),
      idTokenValidity: props.tokenValidity ?? Duration.minutes(30),
      refreshTokenValidity: props.refreshTokenValidity ?? Duration.hours(12),
    });
  }
}
