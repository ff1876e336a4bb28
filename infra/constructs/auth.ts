// Who may use Winnow: a Cognito user pool without self sign-up (owners invite labelers), groups that the API
// maps to roles, and the web app's public client. The web app signs in with USER_PASSWORD_AUTH (or SRP) against
// the client directly: no hosted UI, so the client has every OAuth flow off and no callback URLs. MFA is not
// offered: the web app cannot answer an MFA challenge, and a user who turned it on would be locked out.

import { Duration } from 'aws-cdk-lib';
import {
  AccountRecovery,
  FeaturePlan,
  Mfa,
  UserPool,
  UserPoolClient,
  UserPoolEmail,
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
  /** Send invitations and resets through SES from this verified identity. @default - Cognito's sender (50 a day) */
  readonly email?: { from: string; fromName?: string; replyTo?: string; sesRegion?: string; sesVerifiedDomain?: string };
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
      mfa: Mfa.OFF,
      email: props.email
        ? UserPoolEmail.withSES({
            fromEmail: props.email.from,
            fromName: props.email.fromName,
            replyTo: props.email.replyTo,
            sesRegion: props.email.sesRegion,
            sesVerifiedDomain: props.email.sesVerifiedDomain,
          })
        : UserPoolEmail.withCognito(),
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
        'MFA is off: the web app signs in with USER_PASSWORD_AUTH and cannot answer an MFA challenge, so offering ' +
        'TOTP would lock out the users who turn it on. Invited users only, no self sign-up, a 12-character ' +
        'password policy with history, and 30-minute tokens',
      [finding.rule('COG8')]:
        'The Plus plan (threat protection) is billed per active user; Essentials with no self sign-up, a strong ' +
        'password policy and 30-minute tokens fits a small invited team',
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
      // No hosted UI: no OAuth flows, scopes or callback URLs (CDK would otherwise enable the implicit and code
      // flows with every scope and https://example.com as the callback).
      disableOAuth: true,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: props.tokenValidity ?? Duration.minutes(30),
      idTokenValidity: props.tokenValidity ?? Duration.minutes(30),
      refreshTokenValidity: props.refreshTokenValidity ?? Duration.hours(12),
    });
  }
}
