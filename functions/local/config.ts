// The local stack's configuration, parsed once from flags and environment (flags win).
//   npm start -- --port 8787 --host 127.0.0.1 --data .winnow --models ../shared/models
//   npm start -- --auth --host 0.0.0.0 --public-url http://winnow.lan:8787   (a team on its network)

import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { parseAuditRate } from '../domain/learning/audit.js';
import { DEFAULT_MODEL_MAX_BYTES, DEFAULT_MODEL_TIMEOUT_MS } from '../domain/models.js';
import { DEFAULT_INGEST_CONCURRENCY } from '../ingest/handler.js';
import { repoRoot } from '../repo-root.js';
import { defaultModelDir } from '../vision/manifest.js';

export const REPO_ROOT = repoRoot();

const schema = z.object({
  port: z.coerce.number().int().min(0).max(65535),
  host: z.string().min(1),
  dataDir: z.string().min(1),
  /** --models, else WINNOW_MODELS, else ../shared/models when it exists, else ~/.cache/winnow/models (see defaultModelDir). */
  modelDir: z.string().min(1),
  /** Fetch missing default models from here instead of their public URLs (WINNOW_MODELS_MIRROR). */
  modelsMirror: z.url().optional(),
  /** Fetch missing default models in the background at start-up (WINNOW_MODELS_FETCH=0 turns it off). */
  modelsFetch: z.boolean(),
  /** S3 and DynamoDB emulator ports; default port+1 and port+2 so `aws s3 sync --endpoint-url` is predictable. */
  s3Port: z.coerce.number().int().min(0).max(65535),
  dynamoPort: z.coerce.number().int().min(0).max(65535),
  ingestConcurrency: z.coerce.number().int().min(1).max(16),
  /** WINNOW_AUDIT_RATE: share of served samples that are audit draws for projects without their own (default 1 in 10). */
  auditRate: z.number().min(0).max(1).optional(),
  /** WINNOW_MODEL_MAX_BYTES, WINNOW_MODEL_TIMEOUT_MS: largest model file accepted, longest a trial may take per image. */
  modelMaxBytes: z.coerce.number().int().positive().default(DEFAULT_MODEL_MAX_BYTES),
  modelTimeoutMs: z.coerce.number().int().positive().default(DEFAULT_MODEL_TIMEOUT_MS),
  /** Sign-in through the local token issuer (required to bind beyond loopback). */
  auth: z.boolean(),
  /**
   * The origin labelers' browsers use (`http(s)://host[:port]`): the token issuer, the only origin the app talks to,
   * and every URL handed to browsers (images, uploads, downloads) are on it. Absent: `http://<host>:<port>` once
   * listening, which needs a host browsers can reach (not a wildcard such as 0.0.0.0).
   */
  publicUrl: z
    .string()
    .transform((value, ctx) => {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        ctx.addIssue({ code: 'custom', message: `"${value}" is not a URL (e.g. http://winnow.lan:8787)` });
        return z.NEVER;
      }
      if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password || url.search || url.hash || url.pathname !== '/') {
        ctx.addIssue({ code: 'custom', message: `"${value}" must be an http(s) origin without path, query or credentials (e.g. http://winnow.lan:8787)` });
        return z.NEVER;
      }
      return url.origin;
    })
    .optional(),
});

export type LocalConfig = z.infer<typeof schema>;

export function parseLocalConfig(argv: string[], env: NodeJS.ProcessEnv): LocalConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      models: { type: 'string' },
      's3-port': { type: 'string' },
      'dynamodb-port': { type: 'string' },
      auth: { type: 'boolean' },
      'public-url': { type: 'string' },
    },
    strict: true,
  });
  const port = Number(values.port ?? env.PORT ?? 8787);
  const result = schema.safeParse({
    port,
    host: values.host ?? env.WINNOW_HOST ?? '127.0.0.1',
    dataDir: path.resolve(values.data ?? defaultDataDir(env)),
    modelDir: path.resolve(values.models ?? defaultModelDir(env)),
    modelsMirror: env.WINNOW_MODELS_MIRROR || undefined,
    modelsFetch: !['0', 'false', 'off'].includes((env.WINNOW_MODELS_FETCH ?? '').toLowerCase()),
    s3Port: values['s3-port'] ?? env.WINNOW_S3_PORT ?? (port === 0 ? 0 : port + 1),
    dynamoPort: values['dynamodb-port'] ?? env.WINNOW_DYNAMODB_PORT ?? (port === 0 ? 0 : port + 2),
    ingestConcurrency: env.WINNOW_INGEST_CONCURRENCY ?? DEFAULT_INGEST_CONCURRENCY,
    auditRate: parseAuditRate(env.WINNOW_AUDIT_RATE),
    modelMaxBytes: env.WINNOW_MODEL_MAX_BYTES || undefined,
    modelTimeoutMs: env.WINNOW_MODEL_TIMEOUT_MS || undefined,
    auth: values.auth ?? ['1', 'true', 'on'].includes((env.WINNOW_AUTH ?? '').toLowerCase()),
    publicUrl: values['public-url'] ?? (env.WINNOW_PUBLIC_URL || undefined),
  });
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`invalid configuration: ${issue.path.join('.')}: ${issue.message}`);
  }
  checkExposure(result.data);
  return result.data;
}

/** The data folder when no --data is given: WINNOW_DATA, else `<repo>/.winnow`. */
const defaultDataDir = (env: NodeJS.ProcessEnv) => env.WINNOW_DATA ?? path.join(REPO_ROOT, '.winnow');

const cliSchema = z.object({
  /** The running stack's data folder (its stack.json), and the users file: --data wins. */
  WINNOW_DATA: z.string().min(1),
  /** models:fetch's folder: --dir wins. */
  WINNOW_MODELS: z.string().min(1),
  /** models:fetch's mirror: --mirror wins. */
  WINNOW_MODELS_MIRROR: z.url().optional(),
});

/** What the `winnow` command line reads from its environment; each command's flags win over it. */
export interface CliConfig {
  dataDir: string;
  modelDir: string;
  modelsMirror?: string;
}

/** The CLI's configuration, by the same rules as `npm start`'s (parseLocalConfig): a bad value names its variable. */
export function parseCliConfig(env: NodeJS.ProcessEnv): CliConfig {
  const result = cliSchema.safeParse({
    WINNOW_DATA: path.resolve(defaultDataDir(env)),
    WINNOW_MODELS: path.resolve(defaultModelDir(env)),
    WINNOW_MODELS_MIRROR: env.WINNOW_MODELS_MIRROR || undefined,
  });
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`invalid configuration: ${issue.path.join('.')}: ${issue.message}`);
  }
  return { dataDir: result.data.WINNOW_DATA, modelDir: result.data.WINNOW_MODELS, modelsMirror: result.data.WINNOW_MODELS_MIRROR };
}

const LOOPBACK_HOST = /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/;
const WILDCARD_HOST = /^(0\.0\.0\.0|::|\[::\])$/;
export const isLoopbackHost = (host: string) => LOOPBACK_HOST.test(host);

/**
 * Without sign-in, only loopback: anyone who can reach the server could read and label every image. With a wildcard
 * bind, the URL labelers use cannot be guessed, so it must be given.
 */
function checkExposure(config: LocalConfig): void {
  const publicHost = config.publicUrl ? new URL(config.publicUrl).hostname : undefined;
  if (!config.auth && (!isLoopbackHost(config.host) || (publicHost !== undefined && !isLoopbackHost(publicHost)))) {
    throw new Error(
      `${isLoopbackHost(config.host) ? `refusing to serve ${config.publicUrl}` : `refusing to bind to ${config.host}`} without sign-in: ` +
        'anyone who can reach it could read and label your images. ' +
        'Bind to 127.0.0.1 (the default), or turn sign-in on with --auth.',
    );
  }
  if (WILDCARD_HOST.test(config.host) && !config.publicUrl) {
    throw new Error(
      `--host ${config.host} listens on every address, so Winnow cannot tell which URL your labelers use: ` +
        `pass it with --public-url (e.g. --public-url http://<this machine's name or LAN address>:${config.port || 8787}) or WINNOW_PUBLIC_URL`,
    );
  }
}
