// The cloud functions' configuration: every environment variable a Lambda entry point reads is named here, and
// parsed here once, with zod. The CDK stack builds each function's environment with `functionEnvironment` from
// the same names, so what infra sets and what the code reads cannot drift apart (test/infra/runtime-env.test.ts
// compares the synthesized template with `FUNCTION_ENV`).

import { z } from 'zod';
import { parseAuditRate } from '../../domain/learning/audit.js';
import { DEFAULT_MODEL_MAX_BYTES, DEFAULT_MODEL_TIMEOUT_MS } from '../../domain/models.js';
import { DEFAULT_EMBEDDER } from '../../vision/default-embedder.js';
import { ENV, type TableNames } from './schema.js';

/** Every variable name, by role. */
export const CLOUD_ENV = {
  ...ENV,
  /** Set by Lambda itself. */
  region: 'AWS_REGION',
  /** Queue that starts a training run: `{ "projectId": ..., "sampleIds"?: [...] }`. */
  trainerQueueUrl: 'WINNOW_TRAINER_QUEUE_URL',
  /** Queue of the export function: `{ "kind": "export", "projectId", "exportId" }`, `{ "kind": "deletion", "projectId", "jobId" }`. */
  exportQueueUrl: 'WINNOW_EXPORT_QUEUE_URL',
  /** Cognito user pool and web client: the API checks tokens (again) with aws-jwt-verify and reads groups. */
  userPoolId: 'WINNOW_USER_POOL_ID',
  userPoolClientId: 'WINNOW_USER_POOL_CLIENT_ID',
  /** Embedding model of projects that do not name their own (a manifest name under models/). */
  embedder: 'WINNOW_EMBEDDER',
  /** Lifetime of presigned image, upload and download links. */
  presignTtlSeconds: 'WINNOW_PRESIGN_TTL_SECONDS',
  /** Records of one ingest batch processed at once. */
  ingestConcurrency: 'WINNOW_INGEST_CONCURRENCY',
  /** Model weights inside the ingest image (set by its Dockerfile, not by the stack). */
  modelDir: 'WINNOW_MODELS',
  /** Model manifests inside the ingest image (set by its Dockerfile; optional: default the checkout's models/). */
  manifestDir: 'WINNOW_MANIFESTS',
  /** Share of served samples that are audit draws, for projects without their own (optional; default 1 in 10). */
  auditRate: 'WINNOW_AUDIT_RATE',
  /** Largest model file the API inspects, bytes (optional; default 500 MB). */
  modelMaxBytes: 'WINNOW_MODEL_MAX_BYTES',
  /** Longest one image may take in a model's trial run, ms (optional; default 10 s; trials run where onnxruntime is). */
  modelTimeoutMs: 'WINNOW_MODEL_TIMEOUT_MS',
  /** Only for S3/DynamoDB-compatible endpoints other than AWS (tests against the emulators, self-hosting). */
  s3Endpoint: 'WINNOW_S3_ENDPOINT',
  dynamodbEndpoint: 'WINNOW_DYNAMODB_ENDPOINT',
  /** Only for tests: where the Cognito user pool's JWKS is downloaded from instead of cognito-idp (the issuer is unchanged). */
  cognitoEndpoint: 'WINNOW_COGNITO_ENDPOINT',
} as const;

export type CloudEnvKey = keyof typeof CLOUD_ENV;

const TABLES_AND_BUCKET = ['projectsTable', 'samplesTable', 'annotationsTable', 'labelersTable', 'bucket'] as const;

/**
 * The variables the stack sets on each function: exactly these, no more, no fewer. (AWS_REGION comes from Lambda,
 * WINNOW_MODELS from the ingest image, the endpoints only from tests.)
 */
export const FUNCTION_ENV = {
  api: [...TABLES_AND_BUCKET, 'trainerQueueUrl', 'exportQueueUrl', 'userPoolId', 'userPoolClientId', 'embedder', 'presignTtlSeconds'],
  // The export queue: an original removed from the bucket has its deletion job run there (deletion/sqs-runner.ts).
  ingest: [...TABLES_AND_BUCKET, 'trainerQueueUrl', 'exportQueueUrl', 'ingestConcurrency', 'embedder'],
  trainer: [...TABLES_AND_BUCKET, 'embedder'],
  // Its own queue: an unfinished deletion job goes back on it; the trainer's: a labeler's work deleted is retrained.
  export: [...TABLES_AND_BUCKET, 'embedder', 'exportQueueUrl', 'trainerQueueUrl'],
} as const satisfies Record<string, readonly CloudEnvKey[]>;

export type CloudFunction = keyof typeof FUNCTION_ENV;

/** Values for one function, keyed by role; the stack passes every one (the type makes a missing one an error). */
export type FunctionEnvValues<F extends CloudFunction> = Record<(typeof FUNCTION_ENV)[F][number], string>;

/** The environment of one function as CloudFormation sets it: variable name -> value. */
export function functionEnvironment<F extends CloudFunction>(fn: F, values: FunctionEnvValues<F>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of FUNCTION_ENV[fn] as readonly CloudEnvKey[]) {
    const value = (values as Record<string, string>)[key];
    if (value === undefined) throw new Error(`${fn} function: no value for ${CLOUD_ENV[key]}`);
    out[CLOUD_ENV[key]] = value;
  }
  return out;
}

const name = z.string().trim().min(1);
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const url = z.url();

const FIELD: Record<CloudEnvKey, z.ZodType> = {
  projectsTable: name,
  samplesTable: name,
  annotationsTable: name,
  labelersTable: name,
  bucket: name,
  region: name,
  trainerQueueUrl: url,
  exportQueueUrl: url,
  userPoolId: z.string().regex(/^[\w-]+_[0-9a-zA-Z]+$/, 'must be a Cognito user pool id such as eu-west-1_AbC123'),
  userPoolClientId: name,
  embedder: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be a model manifest name').default(DEFAULT_EMBEDDER),
  presignTtlSeconds: z.coerce.number().int().min(60).max(7 * 24 * 3600).default(900),
  ingestConcurrency: positiveInt(8),
  auditRate: z
    .string()
    .optional()
    .transform((text, ctx) => {
      try {
        return parseAuditRate(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  modelDir: name.default('/opt/models'),
  manifestDir: name.optional(),
  modelMaxBytes: positiveInt(DEFAULT_MODEL_MAX_BYTES),
  modelTimeoutMs: positiveInt(DEFAULT_MODEL_TIMEOUT_MS),
  s3Endpoint: url.optional(),
  dynamodbEndpoint: url.optional(),
  cognitoEndpoint: url.optional(),
};

function schemaFor(keys: readonly CloudEnvKey[]) {
  const all = [...new Set<CloudEnvKey>([...keys, 'region', 's3Endpoint', 'dynamodbEndpoint'])];
  return z.object(Object.fromEntries(all.map((k) => [CLOUD_ENV[k], FIELD[k]])));
}

export class CloudConfigError extends Error {
  override name = 'CloudConfigError';
}

/** Parses one function's environment, naming every missing or invalid variable at once. */
function parse(fn: string, keys: readonly CloudEnvKey[], env: NodeJS.ProcessEnv): Record<CloudEnvKey, unknown> {
  const result = schemaFor(keys).safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new CloudConfigError(`${fn} function: missing or invalid environment: ${problems}`);
  }
  const byName = result.data as Record<string, unknown>;
  return Object.fromEntries((Object.keys(CLOUD_ENV) as CloudEnvKey[]).map((k) => [k, byName[CLOUD_ENV[k]]])) as Record<CloudEnvKey, unknown>;
}

export interface CloudConfig {
  region: string;
  tables: TableNames;
  bucket: string;
  endpoints?: { s3?: string; dynamodb?: string };
}

function storage(e: Record<CloudEnvKey, unknown>): CloudConfig {
  const s3 = e.s3Endpoint as string | undefined;
  const dynamodb = e.dynamodbEndpoint as string | undefined;
  return {
    region: e.region as string,
    tables: {
      projects: e.projectsTable as string,
      samples: e.samplesTable as string,
      annotations: e.annotationsTable as string,
      labelers: e.labelersTable as string,
    },
    bucket: e.bucket as string,
    ...(s3 || dynamodb ? { endpoints: { s3, dynamodb } } : {}),
  };
}

export interface ApiConfig extends CloudConfig {
  trainerQueueUrl: string;
  exportQueueUrl: string;
  userPoolId: string;
  userPoolClientId: string;
  embedder: string;
  presignTtlSeconds: number;
  auditRate?: number;
  cognitoEndpoint?: string;
  /** The model lab's limits (WINNOW_MODEL_MAX_BYTES, WINNOW_MODEL_TIMEOUT_MS). */
  modelLimits: { maxBytes: number; timeoutMs: number };
  /** The function's memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE, set by Lambda; 512 elsewhere). */
  memoryMb: number;
}

export function apiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const e = parse('api', [...FUNCTION_ENV.api, 'cognitoEndpoint', 'auditRate', 'modelMaxBytes', 'modelTimeoutMs'], env);
  return {
    ...storage(e),
    trainerQueueUrl: e.trainerQueueUrl as string,
    exportQueueUrl: e.exportQueueUrl as string,
    userPoolId: e.userPoolId as string,
    userPoolClientId: e.userPoolClientId as string,
    embedder: e.embedder as string,
    presignTtlSeconds: e.presignTtlSeconds as number,
    modelLimits: { maxBytes: e.modelMaxBytes as number, timeoutMs: e.modelTimeoutMs as number },
    // Set by Lambda itself; the in-memory look-alike search sizes itself by it.
    memoryMb: Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE) > 0 ? Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE) : 512,
    ...(e.auditRate !== undefined ? { auditRate: e.auditRate as number } : {}),
    ...(e.cognitoEndpoint ? { cognitoEndpoint: e.cognitoEndpoint as string } : {}),
  };
}

export interface IngestConfig extends CloudConfig {
  trainerQueueUrl: string;
  /** Deletion jobs of originals removed from the bucket go on it (the export function runs them). */
  exportQueueUrl: string;
  ingestConcurrency: number;
  modelDir: string;
  /** Where the model manifests are (WINNOW_MANIFESTS); absent, the checkout's models/ (vision/manifest.ts). */
  manifestDir?: string;
  /** The stage's embedder (cdk.json `embedder`): ingest writes its embeddings, the trainer reads them. */
  embedder: string;
}

export function ingestConfig(env: NodeJS.ProcessEnv = process.env): IngestConfig {
  const e = parse('ingest', [...FUNCTION_ENV.ingest, 'modelDir', 'manifestDir'], env);
  return {
    ...storage(e),
    trainerQueueUrl: e.trainerQueueUrl as string,
    exportQueueUrl: e.exportQueueUrl as string,
    ingestConcurrency: e.ingestConcurrency as number,
    modelDir: e.modelDir as string,
    manifestDir: e.manifestDir as string | undefined,
    embedder: e.embedder as string,
  };
}

export interface TrainerConfig extends CloudConfig {
  embedder: string;
  /** WINNOW_AUDIT_RATE: the stage's audit rate for projects without their own (the API serves by the same). */
  auditRate?: number;
}

export function trainerConfig(env: NodeJS.ProcessEnv = process.env): TrainerConfig {
  const e = parse('trainer', [...FUNCTION_ENV.trainer, 'auditRate'], env);
  return { ...storage(e), embedder: e.embedder as string, ...(e.auditRate !== undefined ? { auditRate: e.auditRate as number } : {}) };
}

export interface ExportConfig extends CloudConfig {
  embedder: string;
  exportQueueUrl: string;
  trainerQueueUrl: string;
}

export function exportConfig(env: NodeJS.ProcessEnv = process.env): ExportConfig {
  const e = parse('export', FUNCTION_ENV.export, env);
  return { ...storage(e), embedder: e.embedder as string, exportQueueUrl: e.exportQueueUrl as string, trainerQueueUrl: e.trainerQueueUrl as string };
}
