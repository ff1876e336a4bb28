// The tensors the models get must be exactly what the manifests describe: checked against a deliberately
// straightforward re-implementation (sharp straight from the file, then plain nested loops).

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, type DecodedImage } from '../../functions/vision/decode.js';
import { loadManifests, type ModelManifest } from '../../functions/vision/manifest.js';
import { imageTensor, webpCopies } from '../../functions/vision/preprocess.js';
import { FLOWERS } from '../support/paths.js';

// 384x288 JPEG: neither side equals a model input size, so every resize path is exercised.
const BENCH = path.join(FLOWERS, 'dandelion/4574447682_40dce530f1.jpg');

let manifests: Map<string, ModelManifest>;
let bytes: Buffer;
let image: DecodedImage;

beforeAll(async () => {
  manifests = await loadManifests();
  bytes = await readFile(BENCH);
  image = await decodeImage(bytes);
});

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** MODELS.md, literally: shorter side 256, centre crop 224, /255, mean/std, planar RGB. */
async function referenceClassifierTensor(file: Buffer, m: ModelManifest): Promise<Float32Array> {
  const spec = m.preprocess;
  if (spec.resize !== 'shorter-side-then-center-crop') throw new Error('wrong spec');
  const { width = 0, height = 0 } = await sharp(file).metadata();
  const s = 256 / Math.min(width, height);
  const w = Math.round(width * s);
  const h = Math.round(height * s);
  const { data } = await sharp(file)
    .resize(w, h, { fit: 'fill', kernel: 'linear' })
    .extract({ left: Math.round((w - 224) / 2), top: Math.round((h - 224) / 2), width: 224, height: 224 })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const out = new Float32Array(3 * 224 * 224);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < 224; y++)
      for (let x = 0; x < 224; x++) out[c * 224 * 224 + y * 224 + x] = (data[(y * 224 + x) * 3 + c] / 255 - spec.mean[c]) / spec.std[c];
  return out;
}

/** YOLOX: longer side to 416, top-left on a 114 canvas, planes B, G, R, raw 0-255. */
async function referenceDetectorTensor(file: Buffer): Promise<Float32Array> {
  const { width = 0, height = 0 } = await sharp(file).metadata();
  const r = Math.min(416 / width, 416 / height);
  const w = Math.round(width * r);
  const h = Math.round(height * r);
  const { data } = await sharp(file).resize(w, h, { fit: 'fill', kernel: 'linear' }).raw().toBuffer({ resolveWithObject: true });
  const out = new Float32Array(3 * 416 * 416).fill(114);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[c * 416 * 416 + y * 416 + x] = data[(y * w + x) * 3 + (2 - c)];
  return out;
}

describe('model input tensors', () => {
  it('MobileNetV2: 3x224x224, normalised RGB planes, equal to the reference', async () => {
    const m = manifests.get('mobilenetv2-features')!;
    const tensor = await imageTensor(image, m.preprocess);
    expect(tensor.side).toBe(224);
    expect(tensor.data).toHaveLength(3 * 224 * 224);
    expect(maxAbsDiff(tensor.data, await referenceClassifierTensor(bytes, m))).toBeLessThan(1e-5);
  });

  it('YOLOX: 3x416x416 letterbox at the top-left, BGR, raw 0-255, 114 padding', async () => {
    const m = manifests.get('yolox-nano')!;
    const tensor = await imageTensor(image, m.preprocess);
    expect(tensor.data).toHaveLength(3 * 416 * 416);
    expect(maxAbsDiff(tensor.data, await referenceDetectorTensor(bytes))).toBe(0);
    // 384x288 -> 416x312: rows 312.. are padding in every plane.
    for (let c = 0; c < 3; c++) expect(tensor.data[c * 416 * 416 + 400 * 416 + 10]).toBe(114);
    // Tensor pixels map back to original pixels by 384/416.
    expect(tensor.toOriginal.scaleX).toBeCloseTo(384 / 416, 6);
    expect(tensor.toOriginal.scaleY).toBeCloseTo(288 / 312, 6);
  });

  it('DINOv2 manifest (bicubic, same crop) produces a 224 tensor through the same code', async () => {
    const tensor = await imageTensor(image, manifests.get('dinov2-vits14-reg')!.preprocess);
    expect(tensor.data).toHaveLength(3 * 224 * 224);
    expect(tensor.data.every(Number.isFinite)).toBe(true);
  });

  it('a box is cropped from the original-pixel region it names', async () => {
    const m = manifests.get('mobilenetv2-features')!;
    const crop = await imageTensor(image, m.preprocess, [100, 50, 200, 150]);
    const region = await sharp(bytes).extract({ left: 100, top: 50, width: 100, height: 100 }).png().toBuffer();
    const reference = await imageTensor(await decodeImage(region), m.preprocess);
    expect(maxAbsDiff(crop.data, reference.data)).toBeLessThan(1e-5);
  });
});

describe('WebP copies for the web app', () => {
  const size = async (webp: Buffer) => {
    const meta = await sharp(webp).metadata();
    return [meta.format, meta.width, meta.height];
  };

  it('small photo: 256 px thumbnail, display copy not enlarged', async () => {
    const copies = await webpCopies(image);
    expect(await size(copies.thumbnail)).toEqual(['webp', 256, 192]);
    expect(await size(copies.display!)).toEqual(['webp', 384, 288]);
  });

  it('large photo: shrunk while loading to a 1600 px display copy', async () => {
    const big = await sharp(bytes).resize(4000, 3000).jpeg().toBuffer();
    const decoded = await decodeImage(big);
    expect([decoded.width, decoded.height, decoded.pixelWidth, decoded.pixelHeight]).toEqual([4000, 3000, 1600, 1200]);
    const copies = await webpCopies(decoded);
    expect(await size(copies.display!)).toEqual(['webp', 1600, 1200]);
    expect(await size(copies.thumbnail)).toEqual(['webp', 256, 192]);
  });
});
