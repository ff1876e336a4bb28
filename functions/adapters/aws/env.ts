// The cloud functions' configuration, parsed once from the environment the CDK stack sets (names in schema.ts ENV).

import { z } from 'zod';
import { ENV, type TableNames } from './schema.js';

const schema = z.object({
  [ENV.projectsTable]: z.string().min(1),
  [ENV.samplesTable]: z.string().min(1),
  [ENV.annotationsTable]: z.string().min(1),
  [ENV.labelersTable]: z.string().min(1),
  [ENV.bucket]: z.string().min(1),
  AWS_REGION: z.string().min(1),
  /** Only for S3/DynamoDB-compatible endpoints other than AWS (tests against the emulators, self-hosting). */
  WINNOW_S3_ENDPOINT: z.string().url().optional(),
  WINNOW_DYNAMODB_ENDPOINT: z.string().url().optional(),
});

export interface CloudConfig {
  region: string;
  tables: TableNames;
  bucket: string;
  endpoints?: { s3?: string; dynamodb?: string };
}

export function parseCloudEnv(env: NodeJS.ProcessEnv): CloudConfig {
  const result = schema.safeParse(env);
  if (!result.success) {
    const missing = result.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new Error(`missing or invalid environment: ${missing}`);
  }
  const e = result.data;
  return {
    region: e.AWS_REGION,
    tables: {
      projects: e[ENV.projectsTable],
      samples: e[ENV.samplesTable],
      annotations: e[ENV.annotationsTable],
      labelers: e[ENV.labelersTable],
    },
    bucket: e[ENV.bucket],
    ...(e.WINNOW_S3_ENDPOINT || e.WINNOW_DYNAMODB_ENDPOINT
      ? { endpoints: { s3: e.WINNOW_S3_ENDPOINT, dynamodb: e.WINNOW_DYNAMODB_ENDPOINT } }
      : {}),
  };
}
