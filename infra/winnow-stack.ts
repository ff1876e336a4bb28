// One Winnow deployment: storage, ingest, training, API, sign-in and the web app. The stack only composes
// constructs; each construct holds its own wiring and permissions.

import { Annotations, AspectPriority, Aspects, Aws, CfnOutput, Duration, Fn, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { functionEnvironment } from '../functions/adapters/aws/env.js';
import type { StageConfig } from './config.js';
import { Api } from './constructs/api.js';
import { Auth } from './constructs/auth.js';
import { PREFIXES } from './constructs/bucket-prefixes.js';
import { DataBucket } from './constructs/data-bucket.js';
import { ExportJobs } from './constructs/export-jobs.js';
import { Ingest } from './constructs/ingest.js';
import { LogBucket } from './constructs/log-bucket.js';
import { LogRetentionEverywhere } from './constructs/log-retention.js';
import { Monitoring } from './constructs/monitoring.js';
import { Tables } from './constructs/tables.js';
import { Trainer } from './constructs/trainer.js';
import { Web } from './constructs/web.js';
import type { ModelWeights } from './model-weights.js';

export interface WinnowSources {
  readonly repoRoot: string;
  readonly lockFile: string;
  readonly apiEntry: string;
  readonly trainerEntry: string;
  readonly exportEntry: string;
  /** Dockerfile path relative to the repository root (the image's build context). */
  readonly ingestDockerfile: string;
  /** Built web app; absent when `npm run build` has not run. */
  readonly webDist?: string;
  readonly modelWeights?: ModelWeights;
}

export interface WinnowStackProps extends StackProps {
  readonly stageName: string;
  readonly config: StageConfig;
  readonly sources: WinnowSources;
}

export class WinnowStack extends Stack {
  readonly logs: LogBucket;
  readonly data: DataBucket;
  readonly tables: Tables;
  readonly trainer: Trainer;
  readonly exports: ExportJobs;
  readonly ingest: Ingest;
  readonly auth: Auth;
  readonly api: Api;
  readonly web: Web;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: WinnowStackProps) {
    super(scope, id, props);
    const { config, sources } = props;
    const logRetention = config.logRetentionDays as RetentionDays;
    const removalPolicy = config.removalPolicy;
    Tags.of(this).add('app', 'winnow');
    Tags.of(this).add('stage', props.stageName);
    for (const [key, value] of Object.entries(config.tags)) Tags.of(this).add(key, value);
    Aspects.of(this).add(new LogRetentionEverywhere(logRetention, removalPolicy), { priority: AspectPriority.MUTATING });

    const logs = (this.logs = new LogBucket(this, 'AccessLogs', {
      expirationDays: config.storage.accessLogExpirationDays,
      removalPolicy,
    }));
    const bucketName = Fn.join('-', ['winnow', props.stageName, Aws.ACCOUNT_ID, Aws.REGION]);
    const data = (this.data = new DataBucket(this, 'Data', {
      bucketName,
      accessLogs: logs.bucket,
      uploadsExpirationDays: config.storage.uploadsExpirationDays,
      derivedExpirationDays: config.storage.derivedExpirationDays,
      noncurrentVersionExpirationDays: config.storage.noncurrentVersionExpirationDays,
      removalPolicy,
    }));
    const expiry = config.storage.uploadsExpirationDays;
    if (expiry !== undefined) {
      // Stage-wide S3 expiry knows nothing of labels (and raises no ObjectRemoved event): say so at every synth.
      Annotations.of(this).addWarning(uploadsExpiryWarning(expiry));
    }
    const tables = (this.tables = new Tables(this, 'Tables'));
    // Each function's environment is built from the names its entry point reads (functions/adapters/aws/env.ts).
    const storage = { ...tables.names(), bucket: data.bucket.bucketName };
    const embedder = config.embedder;
    // The audit rate serving draws by and the trainer keeps audit rows for must be the same number.
    const audit: Record<string, string> = config.auditRate !== undefined ? { WINNOW_AUDIT_RATE: String(config.auditRate) } : {};

    const trainer = (this.trainer = new Trainer(this, 'Training', {
      entry: sources.trainerEntry,
      projectRoot: sources.repoRoot,
      lockFile: sources.lockFile,
      bucket: data.bucket,
      projects: tables.projects,
      samples: tables.samples,
      annotations: tables.annotations,
      environment: { ...functionEnvironment('trainer', { ...storage, embedder }), ...audit },
      memoryMb: config.trainer.memoryMb,
      timeout: Duration.seconds(config.trainer.timeoutSeconds),
      reservedConcurrency: config.trainer.reservedConcurrency,
      logRetention,
      removalPolicy,
    }));
    const exportJobs = (this.exports = new ExportJobs(this, 'Exports', {
      entry: sources.exportEntry,
      projectRoot: sources.repoRoot,
      lockFile: sources.lockFile,
      bucket: data.bucket,
      tables: { projects: tables.projects, samples: tables.samples, annotations: tables.annotations, labelers: tables.labelers },
      trainerQueue: trainer.work.queue,
      environment: (work) => functionEnvironment('export', { ...storage, embedder, exportQueueUrl: work.queue.queueUrl, trainerQueueUrl: trainer.work.queue.queueUrl }),
      memoryMb: config.exports.memoryMb,
      timeout: Duration.seconds(config.exports.timeoutSeconds),
      maxConcurrency: config.exports.maxConcurrency,
      logRetention,
      removalPolicy,
    }));
    const ingest = (this.ingest = new Ingest(this, 'Ingest', {
      bucket: data.bucket,
      projects: tables.projects,
      samples: tables.samples,
      trainerQueue: trainer.work.queue,
      exportQueue: exportJobs.work.queue,
      environment: functionEnvironment('ingest', {
        ...storage,
        trainerQueueUrl: trainer.work.queue.queueUrl,
        exportQueueUrl: exportJobs.work.queue.queueUrl,
        ingestConcurrency: String(config.ingest.recordConcurrency),
        embedder,
      }),
      buildContext: sources.repoRoot,
      dockerfile: sources.ingestDockerfile,
      modelWeights: sources.modelWeights,
      memoryMb: config.ingest.memoryMb,
      timeout: Duration.seconds(config.ingest.timeoutSeconds),
      batchSize: config.ingest.batchSize,
      maxConcurrency: config.ingest.maxConcurrency,
      reservedConcurrency: config.ingest.reservedConcurrency,
      architecture: config.ingest.architecture,
      logRetention,
      removalPolicy,
    }));

    const auth = (this.auth = new Auth(this, 'Auth', {
      removalPolicy,
      email: config.email && { ...config.email, sesRegion: config.email.sesRegion ?? config.region },
    }));
    const api = (this.api = new Api(this, 'Api', {
      entry: sources.apiEntry,
      projectRoot: sources.repoRoot,
      lockFile: sources.lockFile,
      userPool: auth.userPool,
      webClient: auth.webClient,
      bucket: data.bucket,
      tables: tables.all(),
      trainerQueue: trainer.work.queue,
      exportQueue: exportJobs.work.queue,
      environment: {
        ...functionEnvironment('api', {
          ...storage,
          trainerQueueUrl: trainer.work.queue.queueUrl,
          exportQueueUrl: exportJobs.work.queue.queueUrl,
          userPoolId: auth.userPool.userPoolId,
          userPoolClientId: auth.webClient.userPoolClientId,
          embedder,
          presignTtlSeconds: '900',
        }),
        ...audit,
      },
      corsOrigins: config.extraWebOrigins,
      memoryMb: config.api.memoryMb,
      timeout: Duration.seconds(config.api.timeoutSeconds),
      throttle: config.api.throttle,
      logRetention,
      removalPolicy,
    }));

    const web = (this.web = new Web(this, 'Web', {
      logBucket: logs.bucket,
      apiDomainName: api.domainName,
      contentSecurityPolicy: contentSecurityPolicy(bucketName),
      logRetention,
      removalPolicy,
      domain: config.domain,
      webAclArn: config.webAclArn,
    }));
    data.allowBrowserOrigins([web.url, ...config.extraWebOrigins]);
    web.publish({
      siteDir: sources.webDist,
      runtimeConfig: {
        // The API is served by the same CloudFront origin under /api (no CORS, CSP connect-src 'self').
        apiUrl: web.url,
        region: Aws.REGION,
        userPoolId: auth.userPool.userPoolId,
        userPoolClientId: auth.webClient.userPoolClientId,
      },
    });

    this.monitoring = new Monitoring(this, 'Monitoring', {
      functions: { Api: api.fn, Ingest: ingest.fn, Trainer: trainer.fn, Exports: exportJobs.fn },
      queues: { Ingest: ingest.work.queue, Trainer: trainer.work.queue, Exports: exportJobs.work.queue },
      deadLetterQueues: {
        Ingest: ingest.work.deadLetterQueue,
        Trainer: trainer.work.deadLetterQueue,
        Exports: exportJobs.work.deadLetterQueue,
      },
      httpApi: api.httpApi,
      alarmEmail: config.alarmEmail,
      dashboardName: `Winnow-${props.stageName}`,
    });

    output(this, 'WebUrl', web.url, 'Open Winnow here');
    output(this, 'BucketName', data.bucket.bucketName, 'Data bucket');
    output(
      this,
      'UploadPrefix',
      `s3://${data.bucket.bucketName}/${PREFIXES.uploads}<project>/`,
      'Bulk upload: aws s3 sync ./images s3://<bucket>/uploads/<project>/',
    );
    output(this, 'ApiUrl', api.url, 'HTTP API (also served under <WebUrl>/api)');
    output(this, 'UserPoolId', auth.userPool.userPoolId, 'Cognito user pool: invite users here');
    output(this, 'UserPoolClientId', auth.webClient.userPoolClientId, 'Cognito web client');
    output(this, 'IngestDeadLetterQueueUrl', ingest.work.deadLetterQueue.queueUrl, 'Uploads that failed ingest repeatedly');
    output(this, 'Dashboard', `https://console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=Winnow-${props.stageName}`, 'CloudWatch dashboard');
  }
}

function output(scope: Construct, id: string, value: string, description: string): void {
  new CfnOutput(scope, id, { value, description });
}

/**
 * Scripts and styles only from the app itself; network calls only to the same origin (app + API), the data
 * bucket (presigned uploads and images) and Cognito; no framing.
 */
function contentSecurityPolicy(bucketName: string): string {
  const bucketHosts = [
    `https://${bucketName}.s3.${Aws.REGION}.${Aws.URL_SUFFIX}`,
    `https://${bucketName}.s3.${Aws.URL_SUFFIX}`,
  ].join(' ');
  return [
    "default-src 'self'",
    "script-src 'self'",
    // Solid sets inline style attributes.
    "style-src 'self' 'unsafe-inline'",
    `img-src 'self' data: blob: ${bucketHosts}`,
    `connect-src 'self' ${bucketHosts} https://cognito-idp.${Aws.REGION}.${Aws.URL_SUFFIX}`,
    "font-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The synth warning of a stage whose originals expire stage-wide (`storage.uploadsExpirationDays`). */
export function uploadsExpiryWarning(days: number): string {
  return (
    `storage.uploadsExpirationDays is ${days}: S3 deletes every original under uploads/ ${days} days after its upload, in every project, ` +
    'while labels still point at it: an expiry raises no ObjectRemoved event, so the image, its samples and labels stay in the gallery, ' +
    'labeling and exports without their original. Per-project retention (project settings: originals N days after an export) deletes them ' +
    'with everything derived instead; remove storage.uploadsExpirationDays from cdk.json to keep originals while labels point at them.'
  );
}
