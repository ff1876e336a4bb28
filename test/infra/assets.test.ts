// Deterministic assets: the same sources give the same template and asset hashes wherever the repository is
// checked out, and the ingest image's build context holds only what the image needs.

import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { App, type AssetStaging, Duration, Stack } from 'aws-cdk-lib';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import type { DockerImageAsset } from 'aws-cdk-lib/aws-ecr-assets';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ingest } from '../../infra/constructs/ingest.js';
import { PATHS } from '../../infra/paths.js';
import type { WinnowSources } from '../../infra/winnow-stack.js';
import { stageModelDir } from '../../infra/model-weights.js';
import { synthWinnow, type Synthesized } from './support/synth.js';

const temporary: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporary.push(dir);
  return dir;
};

/**
 * Copies what synthesis reads from a checkout to a new path (others may be editing the working tree); the
 * dependencies are linked, as an installed checkout has them.
 */
function copyCheckout(from: string): string {
  const root = tempDir('winnow-checkout-');
  for (const entry of ['.dockerignore', '.npmrc', 'package.json', 'package-lock.json', 'tsconfig.json', 'functions', 'models']) {
    cpSync(join(from, entry), join(root, entry), { recursive: true });
  }
  symlinkSync(join(PATHS.repoRoot, 'node_modules'), join(root, 'node_modules'));
  return root;
}

const sourcesAt = (root: string): Partial<WinnowSources> => ({
  repoRoot: root,
  lockFile: join(root, 'package-lock.json'),
  apiEntry: join(root, relative(PATHS.repoRoot, PATHS.apiEntry)),
  trainerEntry: join(root, relative(PATHS.repoRoot, PATHS.trainerEntry)),
  exportEntry: join(root, relative(PATHS.repoRoot, PATHS.exportEntry)),
});

/** An Ingest construct alone in a stack: its image asset, staged from `buildContext`. */
function ingestImage(
  weights: { contentHash: string; dir: string },
  buildContext = PATHS.repoRoot,
): { asset: DockerImageAsset; staged: string } {
  const outdir = tempDir('winnow-ingest-only-');
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'IngestOnly');
  const ingest = new Ingest(stack, 'Ingest', {
    bucket: new Bucket(stack, 'Bucket'),
    projects: new Table(stack, 'Projects', { partitionKey: { name: 'projectId', type: AttributeType.STRING } }),
    samples: new Table(stack, 'Samples', { partitionKey: { name: 'projectId', type: AttributeType.STRING } }),
    trainerQueue: new Queue(stack, 'Trainer'),
    exportQueue: new Queue(stack, 'Exports'),
    environment: {},
    buildContext,
    dockerfile: PATHS.ingestDockerfile,
    modelWeights: weights,
    memoryMb: 2048,
    timeout: Duration.minutes(2),
    batchSize: 10,
    maxConcurrency: 2,
    architecture: 'x86_64',
    logRetention: RetentionDays.ONE_WEEK,
    removalPolicy: 'destroy',
  });
  const asset = ingest.fn.node.findChild('AssetImage') as DockerImageAsset;
  return { asset, staged: (asset.node.findChild('Staging') as AssetStaging).absoluteStagedPath };
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)],
  );
}

let first: Synthesized;
let second: Synthesized;
let frozen: string;

beforeAll(() => {
  const a = (frozen = copyCheckout(PATHS.repoRoot));
  const b = copyCheckout(a);
  // Bundled like `cdk synth`, into cdk.out inside each checkout.
  first = synthWinnow({ stage: 'dev', sources: sourcesAt(a), bundle: true, outdir: join(a, 'cdk.out') });
  second = synthWinnow({ stage: 'dev', sources: sourcesAt(b), bundle: true, outdir: join(b, 'cdk.out') });
});
afterAll(() => {
  first?.cleanup();
  second?.cleanup();
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

const assetManifest = (s: Synthesized) =>
  JSON.parse(readFileSync(join(s.outdir, `${s.stack.stackName}.assets.json`), 'utf8'));
const dockerImage = (s: Synthesized) => Object.entries<any>(assetManifest(s).dockerImages)[0];

describe('determinism', () => {
  it('two checkouts of the same sources at different paths give the same template', () => {
    expect(second.template.toJSON()).toEqual(first.template.toJSON());
  });

  it('two checkouts of the same sources at different paths give the same asset hashes', () => {
    expect(Object.keys(assetManifest(second).files).sort()).toEqual(Object.keys(assetManifest(first).files).sort());
    expect(dockerImage(second)[0]).toBe(dockerImage(first)[0]);
  });
});

describe('ingest image', () => {
  it('is built from functions/ingest/Dockerfile for the stage platform', () => {
    expect(dockerImage(first)[1].source).toMatchObject({
      dockerFile: 'functions/ingest/Dockerfile',
      platform: first.config.ingest.architecture === 'arm64' ? 'linux/arm64' : 'linux/amd64',
    });
  });

  it('gets the model weights through the model-weights build context', () => {
    expect(dockerImage(first)[1].source.dockerBuildContexts).toEqual({
      'model-weights': stageModelDir(first.config),
    });
  });

  it('has a build context of only the allow-listed files of the repository', () => {
    const { staged } = ingestImage({ contentHash: 'a'.repeat(64), dir: '/weights' });
    expect(readdirSync(staged).sort()).toEqual([
      '.dockerignore',
      '.npmrc',
      'functions',
      'models',
      'package-lock.json',
      'package.json',
      'tsconfig.json',
    ]);
  });

  it('has no dependencies, model weights or tests in its build context', () => {
    const { staged } = ingestImage({ contentHash: 'a'.repeat(64), dir: '/weights' });
    const files = listFiles(staged).map((f) => relative(staged, f));
    expect(files.filter((f) => /(^|\/)node_modules\/|\.onnx$|\.test\.ts$/.test(f))).toEqual([]);
    expect(files).toContain('functions/ingest/Dockerfile');
  });
});

describe('model weights in the image hash', () => {
  const hashOf = (contentHash: string, dir = '/weights') => ingestImage({ contentHash, dir }, frozen).asset.assetHash;

  it('changes when the weights change', () => {
    expect(hashOf('a'.repeat(64))).not.toBe(hashOf('b'.repeat(64)));
  });

  it('does not depend on where the weights folder is on this machine', () => {
    expect(hashOf('c'.repeat(64), '/home/a/shared/models')).toBe(hashOf('c'.repeat(64), '/ci/b/shared/models'));
  });
});
