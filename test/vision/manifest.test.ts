// Model files are checked before use: a missing one is reported with where to get it and the product runs
// without it; a corrupt one stops start-up naming the file and the sha256 it should have.

import { mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder, createImageAnalyzer } from '../../functions/vision/analyzer.js';
import { cachedSha256 } from '../../functions/vision/file-hash.js';
import { checkModels, loadManifests, parseManifest, type ModelManifest } from '../../functions/vision/manifest.js';
import { decodeImage } from '../../functions/vision/decode.js';
import { imageTensor } from '../../functions/vision/preprocess.js';
import { l2normalize } from '../../functions/vision/outputs.js';
import { MODELS } from '../support/paths.js';
import { DAISY, PERSON } from './support/fixtures.js';
import { vitLikeModel } from './support/onnx-writer.js';

const YOLOX_SHA = 'd39bee73564e338080378b0ad567fbb40e818b55bbfaf971de82a0267ed16b8a';
const FEATURES_SHA = '96e29fd69d58b73bcb0d8371945672e357865b0925793bf3b29d095ce7430459';
const SHARED_FILES = ['mobilenetv2-12-int8.onnx', 'mobilenetv2-12-int8-features.onnx', 'yolox_nano.onnx', 'imagenet-simple-labels.json', 'coco80.json'];

let manifests: Map<string, ModelManifest>;
beforeAll(async () => {
  manifests = await loadManifests();
});

/** A model folder in the temp dir holding links to the real files, except those left out or replaced. */
async function modelDir(opts: { without?: string[]; replace?: Record<string, Uint8Array> } = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'winnow-models-'));
  for (const file of SHARED_FILES) {
    if (opts.without?.includes(file) || opts.replace?.[file]) continue;
    await symlink(path.join(MODELS, file), path.join(dir, file));
  }
  for (const [file, body] of Object.entries(opts.replace ?? {})) await writeFile(path.join(dir, file), body);
  return dir;
}

describe('manifests', () => {
  it('ship the four models, each valid', () => {
    expect([...manifests.keys()].sort()).toEqual(['dinov2-vits14-reg', 'mobilenetv2', 'mobilenetv2-features', 'yolox-nano']);
    expect(manifests.get('yolox-nano')).toMatchObject({ role: 'detector', maxBatch: 1, input: { shape: [1, 3, 416, 416] } });
    expect(manifests.get('dinov2-vits14-reg')).toMatchObject({ role: 'embedder', sha256: null, file: 'dinov2_vits14_reg.onnx' });
  });

  it('an invalid manifest is refused with the field at fault', () => {
    const broken = { ...manifests.get('yolox-nano')!, maxBatch: 8, preprocess: { ...manifests.get('yolox-nano')!.preprocess, scale: '1/255' } };
    expect(() => parseManifest(broken, 'broken.json')).toThrow(/invalid model manifest broken\.json: maxBatch: the input batch is fixed at 1/);
    expect(() => parseManifest({ ...broken, sha256: 'abc', maxBatch: 1 }, 'x.json')).toThrow(/sha256: a lowercase hex sha256/);
  });
});

describe('checkModels', () => {
  it('the shared folder has every shipped file intact; only DINOv2 is missing', async () => {
    const check = await checkModels(MODELS, { hashCacheFile: false });
    expect(check.corrupt).toEqual([]);
    expect(check.usable.sort()).toEqual(['mobilenetv2', 'mobilenetv2-features', 'yolox-nano']);
    expect(check.missing.map((m) => m.file)).toEqual(['dinov2_vits14_reg.onnx']);
    expect(check.missing[0].message).toContain('huggingface.co/onnx-community/dinov2-with-registers-small');
    expect(check.present.find((p) => p.file === 'yolox_nano.onnx')).toMatchObject({ sha256: YOLOX_SHA, verified: true });
  });

  it('a missing file is named with its sha256 and where to get it', async () => {
    const dir = await modelDir({ without: ['yolox_nano.onnx'] });
    const check = await checkModels(dir, { manifests: [manifests.get('yolox-nano')!], hashCacheFile: false });
    expect(check.usable).toEqual([]);
    expect(check.missing).toHaveLength(1);
    expect(check.missing[0]).toMatchObject({ file: 'yolox_nano.onnx', sha256: YOLOX_SHA });
    expect(check.missing[0].message).toContain('yolox_nano.onnx');
    expect(check.missing[0].message).toContain(YOLOX_SHA);
    expect(check.missing[0].message).toContain('https://github.com/hamacom2004jp/iinfer/raw/c7f9a3c5216c6f8b3e8b35886f863dffa2dc0bf9/models/yolox_nano.onnx');
  });

  it('a truncated copy is corrupt: the message names the file and the expected sha256', async () => {
    const truncated = (await readFile(path.join(MODELS, 'yolox_nano.onnx'))).subarray(0, 1_000_000);
    const dir = await modelDir({ replace: { 'yolox_nano.onnx': truncated } });
    const check = await checkModels(dir, { manifests: [manifests.get('yolox-nano')!], hashCacheFile: false });
    expect(check.corrupt).toHaveLength(1);
    expect(check.corrupt[0].message).toContain(path.join(dir, 'yolox_nano.onnx'));
    expect(check.corrupt[0].message).toContain(`expected sha256 ${YOLOX_SHA}`);
  });

  it('a same-size file with other bytes is caught by its hash', async () => {
    const labels = Buffer.from(await readFile(path.join(MODELS, 'coco80.json')));
    labels[2] ^= 0x20; // "person" -> "Person"
    const dir = await modelDir({ replace: { 'coco80.json': labels } });
    const check = await checkModels(dir, { manifests: [manifests.get('yolox-nano')!], hashCacheFile: false });
    expect(check.corrupt.map((c) => c.file)).toEqual(['coco80.json']);
    expect(check.corrupt[0].actual).not.toBe(check.corrupt[0].expected);
  });

  it('hashes are cached on disk by path, size and mtime', async () => {
    const cacheFile = path.join(await mkdtemp(path.join(os.tmpdir(), 'winnow-hash-')), 'hashes.json');
    const file = path.join(MODELS, 'mobilenetv2-12-int8-features.onnx');
    expect(await cachedSha256(file, cacheFile)).toBe(FEATURES_SHA);
    const cached = JSON.parse(await readFile(cacheFile, 'utf8')) as Record<string, string>;
    expect(Object.entries(cached)).toEqual([[expect.stringContaining(`${file}|3655263|`), FEATURES_SHA]]);
  });
});

describe('the analyzer with missing or corrupt models', () => {
  it('runs without a missing embedder and says what is missing', async () => {
    const dir = await modelDir({ without: ['mobilenetv2-12-int8-features.onnx'] });
    const analyzer = await createImageAnalyzer({ modelDir: dir, hashCacheFile: false });
    const status = analyzer.status();
    expect(status).toMatchObject({ detector: 'yolox-nano' });
    expect(status.embedder).toBeUndefined();
    expect(status.tagger).toBeUndefined();
    expect(status.missing).toHaveLength(1);
    expect(status.missing[0]).toContain('mobilenetv2-12-int8-features.onnx');
    expect(status.missing[0]).toContain(FEATURES_SHA);
    const analysis = await analyzer.analyze(await readFile(PERSON), { detect: true });
    expect(analysis.embedding).toBeUndefined();
    expect(analysis.detections?.[0]).toMatchObject({ name: 'person' });
    expect(analysis.detections?.[0].embedding).toBeUndefined();
    expect(analysis.thumbnail.length).toBeGreaterThan(0);
  });

  it('refuses to start with a corrupt file, naming it and its expected sha256', async () => {
    const dir = await modelDir({ replace: { 'yolox_nano.onnx': new Uint8Array(3_713_911) } });
    await expect(createImageAnalyzer({ modelDir: dir, hashCacheFile: false })).rejects.toThrow(
      new RegExp(`yolox_nano\\.onnx .*corrupt.*expected sha256 ${YOLOX_SHA}`),
    );
  });

  it('createEmbedder on a missing model fails with the file, sha256 and source', async () => {
    const dir = await modelDir({ without: ['mobilenetv2-12-int8-features.onnx'] });
    await expect(createEmbedder({ modelDir: dir, hashCacheFile: false })).rejects.toThrow(
      /mobilenetv2-12-int8-features\.onnx .*missing.*sha256 96e29fd6.*get it from/,
    );
  });
});

describe('DINOv2 loads through the same code when its file is present', () => {
  // Stand-in file with DINOv2's interface (see support/onnx-writer.ts): pixel_values -> last_hidden_state [b,261,384].
  it('embeds with 384 dims from the CLS token, reported as unpinned', async () => {
    const dir = await modelDir({ replace: { 'dinov2_vits14_reg.onnx': vitLikeModel(261, 384) } });
    const check = await checkModels(dir, { manifests: [manifests.get('dinov2-vits14-reg')!], hashCacheFile: false });
    expect(check.present[0]).toMatchObject({ file: 'dinov2_vits14_reg.onnx', verified: false });

    const analyzer = await createImageAnalyzer({ modelDir: dir, embedder: 'dinov2-vits14-reg', detector: null, hashCacheFile: false });
    expect(analyzer.status()).toMatchObject({ embedder: 'dinov2-vits14-reg', tagger: 'mobilenetv2-features', missing: [] });
    const bytes = await readFile(DAISY);
    const analysis = await analyzer.analyze(bytes);
    expect(analysis.embedding).toHaveLength(384);
    expect(analysis.tags?.[0].name).toBe('daisy');
    // The stand-in's CLS token is the first 384 input floats: the bicubic, ImageNet-normalised red plane.
    const tensor = await imageTensor(await decodeImage(bytes), manifests.get('dinov2-vits14-reg')!.preprocess);
    const expected = l2normalize(tensor.data.subarray(0, 384));
    expect(analysis.embedding!.every((v, i) => Math.abs(v - expected[i]) < 1e-6)).toBe(true);
  });
});
