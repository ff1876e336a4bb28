// The local stack's configuration, parsed once from flags and environment (flags win).
//   npm start -- --port 8787 --host 127.0.0.1 --data .winnow --models ../shared/models

import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
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
  /** Sign-in through the local token issuer (required to bind beyond loopback). */
  auth: z.boolean(),
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
    },
    strict: true,
  });
  const port = Number(values.port ?? env.PORT ?? 8787);
  const result = schema.safeParse({
    port,
    host: values.host ?? env.WINNOW_HOST ?? '127.0.0.1',
    dataDir: path.resolve(values.data ?? env.WINNOW_DATA ?? path.join(REPO_ROOT, '.winnow')),
    modelDir: path.resolve(values.models ?? defaultModelDir(env)),
    modelsMirror: env.WINNOW_MODELS_MIRROR || undefined,
    modelsFetch: !['0', 'false', 'off'].includes((env.WINNOW_MODELS_FETCH ?? '').toLowerCase()),
    s3Port: values['s3-port'] ?? env.WINNOW_S3_PORT ?? (port === 0 ? 0 : port + 1),
    dynamoPort: values['dynamodb-port'] ?? env.WINNOW_DYNAMODB_PORT ?? (port === 0 ? 0 : port + 2),
    ingestConcurrency: env.WINNOW_INGEST_CONCURRENCY ?? DEFAULT_INGEST_CONCURRENCY,
    auth: values.auth ?? ['1', 'true', 'on'].includes((env.WINNOW_AUTH ?? '').toLowerCase()),
  });
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`invalid configuration: ${issue.path.join('.')}: ${issue.message}`);
  }
  return result.data;
}
