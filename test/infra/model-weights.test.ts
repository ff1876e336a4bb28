// `cdk synth` bakes the model folder into the ingest image: it must refuse, naming the file and the fix, when a
// weight the stage's models need is missing or damaged, and it finds the folder the same way `npm start` does.

import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { readModelWeights, stageModelDir, stageModels } from '../../infra/model-weights.js';
import { resolveSources } from '../../infra/sources.js';
import { defaultModelDir } from '../../functions/vision/manifest.js';
import { MODELS, REPO } from '../support/paths.js';
import { cdkContext, stageConfig } from './support/synth.js';

const FILES = ['mobilenetv2-12-int8-features.onnx', 'imagenet-simple-labels.json', 'yolox_nano.onnx', 'coco80.json'];
const dirs: string[] = [];
function folder(opts: { without?: string; damage?: string } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'winnow-weights-'));
  dirs.push(dir);
  for (const f of FILES) if (f !== opts.without) copyFileSync(join(MODELS, f), join(dir, f));
  if (opts.damage) {
    const bytes = readFileSync(join(dir, opts.damage));
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(join(dir, opts.damage), bytes);
  }
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('model weights for the ingest image', () => {
  it('cdk.json no longer points at ../shared/models; each stage names its embedder', () => {
    for (const [name, stage] of Object.entries(cdkContext().stages as Record<string, Record<string, unknown>>)) {
      expect(stage.modelWeightsDir, name).toBeUndefined();
      expect(stageConfig(name).embedder).toBe('mobilenetv2-features');
      expect(stageModelDir(stageConfig(name))).toBe(defaultModelDir(process.env));
    }
    expect(stageModelDir({ modelWeightsDir: 'weights' })).toBe(join(REPO, 'weights'));
  });

  it('accepts a folder with every verified file of the stage\'s models, and hashes it the same way twice', () => {
    const models = stageModels('mobilenetv2-features');
    expect(models).toEqual(['mobilenetv2-features', 'yolox-nano']);
    const dir = folder();
    const a = readModelWeights(dir, { models });
    expect(a.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(readModelWeights(dir, { models }).contentHash).toBe(a.contentHash);
  });

  it('refuses a missing file, naming it and npm run models:fetch', () => {
    const dir = folder({ without: 'yolox_nano.onnx' });
    expect(() => readModelWeights(dir, { models: stageModels('mobilenetv2-features') })).toThrow(
      new RegExp(`yolox_nano\\.onnx \\(model "yolox-nano"\\) is missing[\\s\\S]*npm run models:fetch -- --dir ${dir}`),
    );
  });

  it('refuses a damaged file, with its sha256 and the expected one', () => {
    const dir = folder({ damage: 'mobilenetv2-12-int8-features.onnx' });
    expect(() => readModelWeights(dir, { models: ['mobilenetv2-features'] })).toThrow(
      /mobilenetv2-12-int8-features\.onnx \(model "mobilenetv2-features"\) is damaged: sha256 [0-9a-f]{64}, expected 96e29fd69d58b73bcb0d8371945672e357865b0925793bf3b29d095ce7430459/,
    );
  });

  it('refuses an embedder setting that names no manifest, and a manifest whose hash is not pinned', () => {
    expect(() => readModelWeights(folder(), { models: stageModels('no-such-model') })).toThrow(/no model manifest named "no-such-model".*stage setting "embedder"/);
    expect(() => readModelWeights(folder(), { models: stageModels('dinov2-vits14-reg') })).toThrow(/dinov2_vits14_reg\.onnx \(model "dinov2-vits14-reg"\) is missing/);
  });

  it('resolveSources (what cdk synth calls) stops on a missing folder before anything is synthesized', () => {
    expect(() => resolveSources({ modelWeightsDir: 'no/such/folder', embedder: 'mobilenetv2-features' })).toThrow(
      /the model folder .*no\/such\/folder does not exist[\s\S]*npm run models:fetch/,
    );
  });

  it('the CDK app exits with that message when the weights are missing', async () => {
    const empty = folder({ without: 'mobilenetv2-12-int8-features.onnx' });
    const run = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(REPO, 'infra/app.ts')], {
      cwd: REPO,
      env: { ...process.env, WINNOW_MODELS: empty, CDK_CONTEXT_JSON: JSON.stringify(cdkContext()) },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('mobilenetv2-12-int8-features.onnx (model "mobilenetv2-features") is missing');
    expect(run.stderr).toContain('npm run models:fetch');
  });
});
