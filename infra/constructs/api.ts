// The Hono app on Lambda behind an HTTP API. Every route requires a Cognito-issued JWT; the stage throttles
// and writes one JSON access-log line per request.

import { Duration, Fn, Stack } from 'aws-cdk-lib';
import {
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import type { IUserPool, IUserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeDataGrants } from '../nag.js';
import { removalPolicyOf, type StageRemovalPolicy } from './bucket-defaults.js';
import { grantBucketAccess } from './bucket-prefixes.js';
import { NodeFunction } from './node-function.js';

/** All API routes live under this path (the Hono app mounts its routes there). */
export const API_ROUTE = '/api/{proxy+}';

export interface ApiProps {
  readonly entry: string;
  readonly projectRoot: string;
  readonly lockFile: string;
  readonly userPool: IUserPool;
  readonly webClient: IUserPoolClient;
  readonly bucket: Bucket;
  readonly tables: { projects: Table; samples: Table; annotations: Table; labelers: Table };
  readonly trainerQueue: IQueue;
  /** Export and deletion jobs the API starts (the export function runs them). */
  readonly exportQueue: IQueue;
  /** The function's whole environment (functions/adapters/aws/env.ts `functionEnvironment('api', ...)`). */
  readonly environment: Record<string, string>;
  /**
   * Origins that call the API cross-origin. The web app itself calls it same-origin through CloudFront, so this
   * is only for development origins such as the Vite dev server. @default - no CORS
   */
  readonly corsOrigins?: string[];
  readonly memoryMb: number;
  readonly timeout: Duration;
  readonly throttle: { rateLimit: number; burstLimit: number };
  readonly logRetention: RetentionDays;
  readonly removalPolicy: StageRemovalPolicy;
}

export class Api extends Construct {
  readonly fn: NodejsFunction;
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const handler = new NodeFunction(this, 'Handler', {
      entry: props.entry,
      projectRoot: props.projectRoot,
      lockFile: props.lockFile,
      description: 'Winnow API (Hono)',
      // Export jobs run in the export function; the API only starts them and never loads sharp.
      unusedModules: ['sharp'],
      memoryMb: props.memoryMb,
      timeout: props.timeout,
      environment: props.environment,
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.fn = handler.fn;

    const cors = props.corsOrigins ?? [];
    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'Winnow API',
      // The stage below carries throttling and access logs, which the implicit default stage cannot.
      createDefaultStage: false,
      corsPreflight: cors.length
        ? {
            allowOrigins: cors,
            allowMethods: [CorsHttpMethod.ANY],
            allowHeaders: ['authorization', 'content-type', 'x-request-id'],
            exposeHeaders: ['x-request-id'],
            maxAge: Duration.hours(1),
          }
        : undefined,
    });
    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: removalPolicyOf(props.removalPolicy),
    });
    this.stage = new HttpStage(this, 'Stage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });

    const authorizer = new HttpUserPoolAuthorizer('Cognito', props.userPool, {
      userPoolClients: [props.webClient],
    });
    this.httpApi.addRoutes({
      path: API_ROUTE,
      methods: [HttpMethod.ANY],
      integration: new HttpLambdaIntegration('Hono', this.fn),
      authorizer,
    });

    const objects = this.grantData(props);
    acknowledgeDataGrants(handler.identity.role, {
      bucket: props.bucket,
      ...objects,
      indexedTables: [props.tables.samples, props.tables.annotations],
    });
  }

  /** `host` of the execute-api endpoint, for CloudFront's `/api/*` origin. */
  get domainName(): string {
    return Fn.join('.', [this.httpApi.apiId, 'execute-api', Stack.of(this).region, Stack.of(this).urlSuffix]);
  }

  get url(): string {
    return this.stage.url;
  }

  private grantData(props: ApiProps): ReturnType<typeof grantBucketAccess> {
    const { bucket, tables } = props;
    for (const table of Object.values(tables)) table.grantReadWriteData(this.fn);
    props.trainerQueue.grantSendMessages(this.fn);
    props.exportQueue.grantSendMessages(this.fn);
    // Presigned URLs act with the API's permissions; deletion jobs only start here (the export function runs them,
    // from the export queue). Each folder and why: FUNCTION_ACCESS.api.
    const objects = grantBucketAccess(bucket, this.fn, 'api');
    // Team management from the app (functions/adapters/aws/cognito-directory.ts), on this pool only.
    props.userPool.grant(this.fn, ...TEAM_ACTIONS);
    return objects;
  }
}

/** What owners do to the pool's users from the Team page, and the per-request check of a user's current state. */
export const TEAM_ACTIONS = [
  'cognito-idp:AdminGetUser',
  'cognito-idp:AdminListGroupsForUser',
  'cognito-idp:ListUsers',
  'cognito-idp:ListUsersInGroup',
  'cognito-idp:AdminCreateUser',
  'cognito-idp:AdminAddUserToGroup',
  'cognito-idp:AdminRemoveUserFromGroup',
  'cognito-idp:AdminDisableUser',
  'cognito-idp:AdminEnableUser',
  'cognito-idp:AdminUserGlobalSignOut',
  'cognito-idp:AdminResetUserPassword',
];

/** HTTP API context variables: who called what, how it went, and why the authorizer said no. */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  time: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  method: '$context.httpMethod',
  path: '$context.path',
  routeKey: '$context.routeKey',
  status: '$context.status',
  bytes: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  user: '$context.authorizer.claims.sub',
  authorizerError: '$context.authorizer.error',
  integrationError: '$context.integrationErrorMessage',
};
