// The ingest image's recipe, checked without Docker: the handler is bundled with the exact esbuild command of
// functions/ingest/Dockerfile, laid out as in the image (/var/task), and loaded the way Lambda loads it.

import { execFileSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAMBDA_NODE_RUNTIME } from '../../infra/constructs/lambda-runtime.js';
import { PATHS } from '../../infra/paths.js';
import { stageModelDir } from '../../infra/model-weights.js';
import { stageConfig } from './support/synth.js';

const dockerfile = readFileSync(join(PATHS.repoRoot, PATHS.ingestDockerfile), 'utf8');
const pkg = JSON.parse(readFileSync(join(PATHS.repoRoot, 'package.json'), 'utf8'));
let taskRoot: string;
let meta: { outputs: Record<string, { imports: { path: string; external?: boolean }[] }> };

/** The esbuild arguments of the Dockerfile's build stage (continuation lines joined). */
function dockerEsbuildArgs(): string[] {
  const run = /RUN \/opt\/esbuild\/node_modules\/\.bin\/esbuild ((?:[^\n]*\\\n)*[^\n]*)/.exec(dockerfile);
  if (!run) throw new Error('no esbuild step in the Dockerfile');
  return run[1].replace(/\\\n/g, ' ').trim().split(/\s+/);
}

/** CMD ["functions/ingest/lambda.handler"] -> module path and export name. */
function dockerHandler(): { module: string; exportName: string } {
  const cmd = /^CMD \["([^"]+)"\]/m.exec(dockerfile)![1];
  const dot = cmd.lastIndexOf('.');
  return { module: `${cmd.slice(0, dot)}.js`, exportName: cmd.slice(dot + 1) };
}

beforeAll(() => {
  taskRoot = mkdtempSync(join(tmpdir(), 'winnow-ingest-image-'));
  const args = dockerEsbuildArgs().map((a) =>
    a.startsWith('--outfile=') ? `--outfile=${join(taskRoot, a.slice('--outfile=/out/'.length))}` : a,
  );
  const esbuild = join(PATHS.repoRoot, 'node_modules/.bin/esbuild');
  const extra = [`--metafile=${join(taskRoot, 'meta.json')}`, '--log-level=warning'];
  execFileSync(esbuild, [...args, ...extra], { cwd: PATHS.repoRoot });
  meta = JSON.parse(readFileSync(join(taskRoot, 'meta.json'), 'utf8'));
  // The final stage: package.json (ESM), production node_modules, model manifests, the bundle.
  writeFileSync(join(taskRoot, 'package.json'), JSON.stringify({ type: pkg.type }));
  cpSync(join(PATHS.repoRoot, 'models'), join(taskRoot, 'models'), { recursive: true });
  symlinkSync(join(PATHS.repoRoot, 'node_modules'), join(taskRoot, 'node_modules'));
});
afterAll(() => rmSync(taskRoot, { recursive: true, force: true }));

describe('ingest image', () => {
  it('uses the Lambda Node.js base image of the same version as the other functions', () => {
    const major = /^nodejs(\d+)\.x$/.exec(LAMBDA_NODE_RUNTIME.name)![1];
    expect(dockerfile).toContain(`ARG NODE_IMAGE=public.ecr.aws/lambda/nodejs:${major}`);
  });

  it('installs onnxruntime-node without its network-bound install step', () => {
    expect(dockerfile).toMatch(/ENV ONNXRUNTIME_NODE_INSTALL=skip[\s\S]*RUN npm ci --omit=dev/);
  });

  it('imports only production dependencies (the image has no dev dependencies)', () => {
    const builtins = new Set(builtinModules);
    const packages = new Set(
      Object.values(meta.outputs)
        .flatMap((o) => o.imports)
        .filter((i) => i.external && !i.path.startsWith('node:') && !builtins.has(i.path))
        .map((i) => (i.path.startsWith('@') ? i.path.split('/').slice(0, 2).join('/') : i.path.split('/')[0])),
    );
    expect(packages.size).toBeGreaterThan(0);
    for (const name of packages) expect(Object.keys(pkg.dependencies), name).toContain(name);
  });

  it('starts the way Lambda starts it and answers an empty batch', async () => {
    const { module, exportName } = dockerHandler();
    const config = stageConfig('dev');
    // What the stack and the image set (the image's ENV points the models at the baked-in weights).
    const lambdaEnv = {
      WINNOW_PROJECTS_TABLE: 'projects',
      WINNOW_SAMPLES_TABLE: 'samples',
      WINNOW_ANNOTATIONS_TABLE: 'annotations',
      WINNOW_LABELERS_TABLE: 'labelers',
      WINNOW_BUCKET: 'bucket',
      AWS_REGION: 'eu-west-1',
      WINNOW_MANIFESTS: join(taskRoot, 'models'),
      WINNOW_MODELS: stageModelDir(config),
    };
    const saved = { ...process.env };
    Object.assign(process.env, lambdaEnv);
    try {
      const handler = (await import(join(taskRoot, module)))[exportName];
      expect(await handler({ Records: [] })).toEqual({ batchItemFailures: [] });
    } finally {
      for (const key of Object.keys(lambdaEnv)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });
});
