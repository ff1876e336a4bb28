// Synthesis still works before `npm run build` and without model weights; both gaps are reported as warnings.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthWinnow, type Synthesized } from './support/synth.js';

let s: Synthesized;

beforeAll(() => {
  s = synthWinnow({ stage: 'dev', sources: { webDist: undefined, modelWeights: undefined } });
});
afterAll(() => s?.cleanup());

/** Warnings recorded on the construct at `path`, as `cdk synth` prints them. */
const warningsAt = (path: string) =>
  s.assembly
    .getStackByName(s.stack.stackName)
    .messages.filter((m) => m.level === 'warning' && m.id === path)
    .map((m) => String(m.entry.data));

describe('without a web build', () => {
  it('warns that only config.json is published', () => {
    expect(warningsAt('/Winnow-dev/Web').join('\n')).toContain('npm run build');
  });

  it('publishes config.json alone and keeps the previously published app', () => {
    s.template.hasResourceProperties('Custom::CDKBucketDeployment', {
      SourceObjectKeys: Match.arrayEquals([Match.anyValue()]),
      Prune: false,
    });
  });
});

describe('without model weights', () => {
  it('warns that the ingest image will have no models', () => {
    expect(warningsAt('/Winnow-dev/Ingest').join('\n')).toContain('modelWeightsDir');
  });

  it('builds the image without the model-weights build context', () => {
    const manifest = JSON.parse(readFileSync(join(s.outdir, `${s.stack.stackName}.assets.json`), 'utf8'));
    const [image] = Object.values<any>(manifest.dockerImages);
    expect(image.source.dockerFile).toBe('functions/ingest/Dockerfile');
    expect(image.source.dockerBuildContexts).toBeUndefined();
  });
});
