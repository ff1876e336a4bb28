// Per-stage deployment settings, read from `cdk.json` context (`stages.<name>`) and checked once, here.
// Select a stage with `-c stage=prod`; the default is `dev`. Constructs receive these as typed props and never
// read the environment themselves.

import { z } from 'zod';

/** CloudWatch Logs accepts only these retention periods (days). */
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const days = z.number().int().positive();
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
    /** Expire originals under `uploads/` after N days; omit to keep them. */
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
  embedder: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be a model manifest name (models/<name>.json)').default('mobilenetv2-features'),
  ingest: z.strictObject({
    memoryMb,
    timeoutSeconds: timeoutSeconds.default(120),
    /** SQS messages per invocation (one message = one uploaded object). */
    batchSize: z.number().int().min(1).max(10).default(10),
    /** Upper bound of concurrent ingest invocations the SQS poller starts (>= 2, an SQS event source rule). */
    maxConcurrency: z.number().int().min(2).max(1000),
    /** Reserved concurrency; omit on accounts with the default 10-execution quota (reserving would fail). */
    reservedConcurrency: z.number().int().min(1).optional(),
    architecture: z.enum(['x86_64', 'arm64']).default('x86_64'),
  }),
  trainer: z.strictObject({
    memoryMb,
    /** Retrains and export jobs (a large export with images streams for minutes): Lambda's maximum by default. */
    timeoutSeconds: timeoutSeconds.default(900),
    reservedConcurrency: z.number().int().min(1).optional(),
  }),
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
  const parsed = stageSchema.safeParse((stages as Record<string, unknown>)[stageName]);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  stages.${stageName}.${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid settings for stage "${stageName}" in cdk.json:\n${problems.join('\n')}`);
  }
  return parsed.data;
}
