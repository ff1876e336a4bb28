// Per-stage deployment settings, read from `cdk.json` context (`stages.<name>`) and checked once, here.
// Select a stage with `-c stage=prod`; the default is `dev`. Constructs receive these as typed props and never
// read the environment themselves.

import { z } from 'zod';
import { DEFAULT_EMBEDDER } from '../functions/vision/default-embedder.js';

/** CloudWatch Logs accepts only these retention periods (days). */
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const days = z.number().int().positive();
/** The trainer's SQS event source runs this many pollers: the fewest SQS allows. */
export const TRAINER_POLLERS = 2;
/** Lambda keeps this much of the account's concurrency unreserved: reserving is only possible above it. */
const UNRESERVED_MINIMUM = 100;
/** Concurrency left for the API (and CDK's deploy-time helpers) when the queue-fed functions are all busy. */
const API_HEADROOM = 2;
const memoryMb = z.number().int().min(128).max(10240);
const timeoutSeconds = z.number().int().min(1).max(900);

const stageSchema = z.strictObject({
  /** 12-digit AWS account; omit to deploy to the account of the current credentials. */
  account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id').optional(),
  /** AWS region; omit to use the region of the current credentials / profile. */
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1').optional(),
  /**
   * What happens to buckets and log groups when the stack is deleted. Tables are always retained (and protected
   * from deletion): labels are the product.
   */
  removalPolicy: z.enum(['retain', 'destroy']),
  /**
   * Extra browser origins allowed to call the API and upload to the bucket (e.g. `http://localhost:5173` for
   * the Vite dev server against a dev stack, or a custom domain). The CloudFront origin is always allowed.
   */
  extraWebOrigins: z.array(z.url().refine((u) => !u.endsWith('/'), 'no trailing slash')).default([]),
  storage: z.strictObject({
    /**
     * Expire originals under `uploads/` after N days, stage-wide; omit to keep them. Labels keep pointing at expired
     * originals, so synth warns when this is set (winnow-stack.ts); per-project retention is the safe way.
     */
    uploadsExpirationDays: days.optional(),
    /** Expire derived files (thumbnails, display copies) under `derived/` after N days; omit to keep them. */
    derivedExpirationDays: days.optional(),
    /** Overwritten or deleted object versions are kept this long (versioning protects against mistakes). */
    noncurrentVersionExpirationDays: days.default(30),
    /** S3 server access logs and CloudFront logs are kept this long. */
    accessLogExpirationDays: days.default(90),
  }),
  /** Retention of the functions' and the API's CloudWatch log groups. */
  logRetentionDays: z.number().refine((d) => (RETENTION_DAYS as readonly number[]).includes(d), {
    message: `must be one of ${RETENTION_DAYS.join(', ')}`,
  }),
  /**
   * Folder holding the ONNX weights baked into the ingest image, relative to the repository root. Omit it to use the
   * folder `npm start` and `npm run models:fetch` use (WINNOW_MODELS, ../shared/models when present, else
   * ~/.cache/winnow/models). `cdk synth` checks the files against their manifests.
   */
  modelWeightsDir: z.string().min(1).optional(),
  /** The model manifest (models/<name>.json) ingest embeds with; its files must be in the model folder. */
  embedder: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be a model manifest name (models/<name>.json)').default(DEFAULT_EMBEDDER),
  ingest: z.strictObject({
    memoryMb,
    timeoutSeconds: timeoutSeconds.default(120),
    /** SQS messages per invocation (one message = one uploaded object). */
    batchSize: z.number().int().min(1).max(10).default(10),
    /** Upper bound of concurrent ingest invocations the SQS poller starts (>= 2, an SQS event source rule). */
    maxConcurrency: z.number().int().min(2).max(1000),
    /**
     * Reserved concurrency (>= maxConcurrency, or SQS batches are throttled and dead-lettered). Only on accounts
     * whose Lambda concurrency quota leaves 100 unreserved; omit on a new account (quota 10).
     */
    reservedConcurrency: z.number().int().min(2).optional(),
    /** Records of one batch processed at once inside an invocation (overlaps S3/DynamoDB waits with inference). */
    recordConcurrency: z.number().int().min(1).max(32).default(4),
    architecture: z.enum(['x86_64', 'arm64']).default('x86_64'),
  }),
  trainer: z.strictObject({
    memoryMb,
    /** A retrain of a large project: Lambda's maximum by default. */
    timeoutSeconds: timeoutSeconds.default(900),
    /**
     * Reserved concurrency, at least the event source's 2 pollers (one trainer per project at a time is ensured
     * by a lease, not by concurrency). Same quota rule as ingest.
     */
    reservedConcurrency: z.number().int().min(TRAINER_POLLERS).optional(),
  }),
  /** The export function (a large export with images streams for minutes). */
  exports: z
    .strictObject({
      memoryMb: memoryMb.default(1769),
      timeoutSeconds: timeoutSeconds.default(900),
      maxConcurrency: z.number().int().min(2).max(1000).default(2),
    })
    .prefault({}),
  /**
   * The account's Lambda concurrent-executions quota in the stage's region (Service Quotas, "Concurrent
   * executions"): 10 on a new account. Checked: the queue-fed functions together must leave the API 2.
   */
  lambdaConcurrencyQuota: z.number().int().min(10).default(10),
  /**
   * Share of served samples drawn uniformly for the audit stream behind the live accuracy estimate, for projects
   * without their own (WINNOW_AUDIT_RATE of the API and the trainer); omit for 1 in 10.
   */
  auditRate: z.number().min(0).max(1).optional(),
  /** Alarms (dead letters, function errors and throttles, API 5xx) are emailed here through SNS; omit for none. */
  alarmEmail: z.email().optional(),
  /**
   * Cognito sends invitations and password resets through SES from this address (a verified SES identity in
   * `region`, default the stack's). Omit to use Cognito's own sender (50 emails a day).
   */
  email: z
    .strictObject({
      from: z.email(),
      fromName: z.string().min(1).optional(),
      replyTo: z.email().optional(),
      sesRegion: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/).optional(),
      /** The verified SES domain of `from`, when the identity is the domain rather than the address. */
      sesVerifiedDomain: z.string().min(1).optional(),
    })
    .optional(),
  /** A custom domain for the web app: an ACM certificate in us-east-1 (CloudFront's region) that covers `name`. */
  domain: z
    .strictObject({
      name: z.string().regex(/^(?!-)[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'must be a host name such as label.example.com'),
      certificateArn: z.string().regex(/^arn:aws[\w-]*:acm:us-east-1:\d{12}:certificate\/[\w-]+$/, 'must be an ACM certificate ARN in us-east-1'),
    })
    .optional(),
  /** An existing WAF web ACL (scope CLOUDFRONT, so in us-east-1) in front of the web app and the API. */
  webAclArn: z.string().regex(/^arn:aws[\w-]*:wafv2:us-east-1:\d{12}:global\/webacl\/.+$/, 'must be a CLOUDFRONT-scope WAF web ACL ARN (us-east-1, global/webacl/...)').optional(),
  /** Tags on every resource, beside `app: winnow` and `stage: <name>`. */
  tags: z.record(z.string().min(1).max(128), z.string().max(256)).default({}),
  api: z.strictObject({
    memoryMb,
    /** HTTP APIs cut integrations off at 30 s. */
    timeoutSeconds: z.number().int().min(1).max(29).default(15),
    throttle: z.strictObject({
      /** Steady-state requests per second across the stage. */
      rateLimit: z.number().positive(),
      burstLimit: z.number().int().positive(),
    }),
  }),
});

const checkedStageSchema = stageSchema.superRefine((c, ctx) => {
  const reserved = (c.ingest.reservedConcurrency ?? 0) + (c.trainer.reservedConcurrency ?? 0);
  if (reserved > 0 && reserved > c.lambdaConcurrencyQuota - UNRESERVED_MINIMUM) {
    ctx.addIssue({
      code: 'custom',
      path: ['lambdaConcurrencyQuota'],
      message:
        `reserving ${reserved} executions needs a Lambda concurrency quota of at least ${reserved + UNRESERVED_MINIMUM} ` +
        `(Lambda keeps ${UNRESERVED_MINIMUM} unreserved); this account's is ${c.lambdaConcurrencyQuota}: remove ` +
        'reservedConcurrency or raise the quota (Service Quotas) and set lambdaConcurrencyQuota',
    });
  }
  if (c.ingest.reservedConcurrency !== undefined && c.ingest.reservedConcurrency < c.ingest.maxConcurrency) {
    ctx.addIssue({
      code: 'custom',
      path: ['ingest', 'reservedConcurrency'],
      message: `must be at least ingest.maxConcurrency (${c.ingest.maxConcurrency}): fewer would throttle SQS batches into the dead-letter queue`,
    });
  }
  if (c.email && !c.email.sesRegion && !c.region) {
    ctx.addIssue({
      code: 'custom',
      path: ['email', 'sesRegion'],
      message: 'required when the stage sets no region: the region of the verified SES identity',
    });
  }
  const pollers = c.ingest.maxConcurrency + TRAINER_POLLERS + c.exports.maxConcurrency;
  if (pollers > c.lambdaConcurrencyQuota - API_HEADROOM) {
    ctx.addIssue({
      code: 'custom',
      path: ['ingest', 'maxConcurrency'],
      message:
        `ingest (${c.ingest.maxConcurrency}) + trainer (${TRAINER_POLLERS}) + exports (${c.exports.maxConcurrency}) ` +
        `pollers must leave the API ${API_HEADROOM} of the account's ${c.lambdaConcurrencyQuota} concurrent executions ` +
        '(lambdaConcurrencyQuota)',
    });
  }
});

export type StageConfig = z.infer<typeof stageSchema>;

/** A stage name becomes part of the stack name and of the data bucket name: keep it short and DNS-safe. */
const STAGE_NAME = /^[a-z][a-z0-9-]{0,11}$/;

/**
 * Picks `stages[stageName]` from the context and validates it. Throws one error listing every problem, with the
 * path of each field, so a typo in `cdk.json` is fixed in one go.
 */
export function parseStageConfig(stages: unknown, stageName: string): StageConfig {
  if (!STAGE_NAME.test(stageName)) {
    throw new Error(`Stage name "${stageName}" must match ${STAGE_NAME} (lowercase, at most 12 characters).`);
  }
  if (typeof stages !== 'object' || stages === null || !(stageName in stages)) {
    const known = typeof stages === 'object' && stages !== null ? Object.keys(stages).join(', ') : 'none';
    throw new Error(`No settings for stage "${stageName}" in cdk.json context "stages" (known stages: ${known}).`);
  }
  const parsed = checkedStageSchema.safeParse((stages as Record<string, unknown>)[stageName]);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  stages.${stageName}.${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid settings for stage "${stageName}" in cdk.json:\n${problems.join('\n')}`);
  }
  return parsed.data;
}
