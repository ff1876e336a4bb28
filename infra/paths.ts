// Where the deployable pieces live in the repository. Resolved from this file, not from the working directory,
// so `cdk synth` and the tests agree wherever they are started from.

import { join } from 'node:path';
import { repoRoot } from '../functions/repo-root.js';

export const REPO_ROOT = repoRoot();

export const PATHS = {
  repoRoot: REPO_ROOT,
  lockFile: join(REPO_ROOT, 'package-lock.json'),
  /** Hono app on Lambda (`hono/aws-lambda`), exports `handler`. */
  apiEntry: join(REPO_ROOT, 'functions/api/lambda.ts'),
  /** Trainer fed by its SQS queue, exports `handler`. */
  trainerEntry: join(REPO_ROOT, 'functions/trainer/lambda.ts'),
  /** Export jobs fed by their SQS queue, exports `handler`. */
  exportEntry: join(REPO_ROOT, 'functions/export/lambda.ts'),
  /** Ingest container image; its build context is the repository root (see `.dockerignore`). */
  ingestDockerfile: 'functions/ingest/Dockerfile',
  /** Output of `npm run build`. */
  webDist: join(REPO_ROOT, 'web/dist'),
} as const;
