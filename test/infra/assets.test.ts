// Deterministic assets: the same sources give the same template and asset hashes, and the ingest image's build
// context holds only what the image needs (no node_modules, cdk.out, local data or test output).

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ingest } from '../../infra/constructs/ingest.js';
import { PATHS } from '../../infra/paths.js';
import { synthWinnow, type Synthesized } from './support/synth.js';

let first: Synthesized;
let second: Synthesized;

beforeAll(() => {
  first = synthWinnow({ stage: 'dev' });
  second = synthWinnow({ stage: 'dev' });
});
afterAll(() => {
  first?.cleanup();
  second?.cleanup();
});

const assetManifest = (s: Synthesized) =>
  JSON.parse(readFileSync(join(s.outdir, `${s.stack.stackName}.assets.json`), 'utf8'));
const dockerImage = (s: Synthesized) => Object.entries<any>(assetManifest(s).dockerImages)[0];

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)],
  );
}

describe('determinism', () => {
  it('two syntheses of the same sources give the same template', () => {
    expect(second.template.toJSON()).toEqual(first.template.toJSON());
  });

  it('two syntheses of the same sources give the same asset hashes', () => {
    expect(Object.keys(assetManifest(second).files).sort()).toEqual(Object.keys(assetManifest(first).files).sort());
    expect(dockerImage(second)[0]).toBe(dockerImage(first)[0]);
  });
});

describe('ingest image', () => {
  const staged = () => join(first.outdir, dockerImage(first)[1].source.directory);

  it('is built from functions/ingest/Dockerfile for the stage platform', () => {
    expect(dockerImage(first)[1].source).toMatchObject({
      dockerFile: 'functions/ingest/Dockerfile',
      platform: first.config.ingest.architecture === 'arm64' ? 'linux/arm64' : 'linux/amd64',
    });
  });

  it('gets the model weights through the model-weights build context', () => {
    expect(dockerImage(first)[1].source.dockerBuildContexts).toEqual({
      'model-weights': resolve(PATHS.repoRoot, first.config.modelWeightsDir),
    });
  });

  it('has a build context of only the allow-listed files', () => {
    expect(readdirSync(staged()).sort()).toEqual([
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
    const files = listFiles(staged()).map((f) => relative(staged(), f));
    expect(files.filter((f) => /(^|\/)node_modules\/|\.onnx$|\.test\.ts$/.test(f))).toEqual([]);
    expect(files).toContain('functions/ingest/Dockerfile');
  });
});

describe('model weights in the image hash', () => {
  /** The image asset hash of an Ingest construct alone, for given weights. */
  const imageHash = (contentHash: string, dir = '/weights') => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'IngestOnly');
    const ingest = new Ingest(stack, 'Ingest', {
      bucket: new Bucket(stack, 'Bucket'),
      projects: new Table(stack, 'Projects', { partitionKey: { name: 'projectId', type: AttributeType.STRING } }),
      samples: new Table(stack, 'Samples', { partitionKey: { name: 'projectId', type: AttributeType.STRING } }),
      trainerQueue: new Queue(stack, 'Trainer'),
      environment: {},
      buildContext: PATHS.repoRoot,
      dockerfile: PATHS.ingestDockerfile,
      modelWeights: { dir, contentHash },
      memoryMb: 2048,
      timeout: Duration.minutes(2),
      batchSize: 10,
      maxConcurrency: 2,
      architecture: 'x86_64',
      logRetention: RetentionDays.ONE_WEEK,
      removalPolicy: 'destroy',
    });
    return (ingest.fn.node.findChild('AssetImage') as unknown as { assetHash: string }).assetHash;
  };

  it('changes when the weights change', () => {
    expect(imageHash('a'.repeat(64))).not.toBe(imageHash('b'.repeat(64)));
  });

  it('does not depend on where the weights folder is on this machine', () => {
    expect(imageHash('c'.repeat(64), '/home/a/shared/models')).toBe(imageHash('c'.repeat(64), '/ci/b/shared/models'));
  });
});
