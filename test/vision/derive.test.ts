// The embedder file is derived by code in this repository from the public ONNX Model Zoo file, and must behave
// exactly like the team's copy (../shared/models/mobilenetv2-12-int8-features.onnx) on real photos. Offline: the
// base file comes from the shared model folder.

import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../functions/vision/decode.js';
import { DERIVATIONS, deriveMobilenetFeatures } from '../../functions/vision/derive.js';
import { loadManifest } from '../../functions/vision/manifest.js';
import { imageTensor } from '../../functions/vision/preprocess.js';
import { FLOWERS, MODELS } from '../support/paths.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

let base: Buffer;
let derived: Uint8Array;

beforeAll(async () => {
  base = await readFile(path.join(MODELS, 'mobilenetv2-12-int8.onnx'));
  derived = deriveMobilenetFeatures(base);
});

describe('the derived embedder', () => {
  it('is deterministic and has the sha256 and size its manifest records', async () => {
    const manifest = await loadManifest('mobilenetv2-features');
    expect(manifest.source.derivation).toBe('mobilenetv2-features');
    expect(manifest.source.derivedFrom).toBe('mobilenetv2');
    expect(sha256(deriveMobilenetFeatures(await readFile(path.join(MODELS, 'mobilenetv2-12-int8.onnx'))))).toBe(sha256(derived));
    expect(sha256(derived)).toBe(manifest.sha256);
    expect(derived.byteLength).toBe(manifest.bytes);
    // The base file itself is the pinned public one.
    expect(sha256(base)).toBe((await loadManifest('mobilenetv2')).sha256);
  });

  it('gives the same "features" and "output" as the team\'s file on 20 real flower photos (batch of 20)', async () => {
    const manifest = await loadManifest('mobilenetv2-features');
    const classes = (await readdir(FLOWERS, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    const files: string[] = [];
    for (const c of classes) {
      const names = (await readdir(path.join(FLOWERS, c))).filter((f) => f.endsWith('.jpg')).sort().slice(0, 4);
      files.push(...names.map((n) => path.join(FLOWERS, c, n)));
    }
    expect(files).toHaveLength(20);
    const side = 224;
    const batch = new Float32Array(files.length * 3 * side * side);
    for (const [i, file] of files.entries()) {
      const tensor = await imageTensor(await decodeImage(await readFile(file)), manifest.preprocess);
      batch.set(tensor.data, i * 3 * side * side);
    }
    const input = new ort.Tensor('float32', batch, [files.length, 3, side, side]);
    const run = async (model: Uint8Array) => {
      const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
      try {
        return await session.run({ input });
      } finally {
        await session.release();
      }
    };
    const ours = await run(derived);
    const team = await run(await readFile(path.join(MODELS, 'mobilenetv2-12-int8-features.onnx')));
    for (const name of ['features', 'output']) {
      expect(ours[name].dims).toEqual(team[name].dims);
      const a = ours[name].data as Float32Array;
      const b = team[name].data as Float32Array;
      const maxAbsDiff = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
      expect(maxAbsDiff, name).toBe(0);
    }
    expect(ours.features.dims).toEqual([20, 1280]);
    // Not a degenerate output: the features differ from photo to photo.
    const f = ours.features.data as Float32Array;
    expect(f.subarray(0, 1280).some((v, i) => v !== f[1280 + i])).toBe(true);
  });

  it('refuses a file that is not the base model, saying why', () => {
    expect(() => deriveMobilenetFeatures(new TextEncoder().encode('<html>rate limited</html>'))).toThrow(/not a readable ONNX file|has no tensor/);
    expect(() => deriveMobilenetFeatures(derived)).toThrow(/already has a "features" output/);
  });
});

it('coco80.json is generated from the class list in code with the sha256 the detector manifest records', async () => {
  const labels = (await loadManifest('yolox-nano')).outputs.find((o) => o.decode === 'yolox')!;
  expect(labels.decode === 'yolox' && labels.labels.source?.derivation).toBe('coco80-labels');
  const bytes = DERIVATIONS['coco80-labels'].derive();
  expect(labels.decode === 'yolox' && sha256(bytes)).toBe(labels.decode === 'yolox' && labels.labels.sha256);
  expect(Buffer.from(bytes).equals(await readFile(path.join(MODELS, 'coco80.json')))).toBe(true);
});
