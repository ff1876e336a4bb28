// The real ONNX models on real photos: the numbers MODELS.md reports must come out of the product's pipeline.

import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder, createImageAnalyzer, type Embedder, type VisionAnalyzer } from '../../functions/vision/analyzer.js';
import { ModelRunner } from '../../functions/vision/onnx.js';
import { FLOWERS, MODELS } from '../support/paths.js';
import { DAISY, PERSON } from './support/fixtures.js';

let analyzer: VisionAnalyzer;
let embedder: Embedder;

beforeAll(async () => {
  analyzer = await createImageAnalyzer({ modelDir: MODELS });
  embedder = await createEmbedder({ modelDir: MODELS });
});

const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

it('all three shipped models load; DINOv2 is not required', () => {
  expect(analyzer.status()).toEqual({ embedder: 'mobilenetv2-features', tagger: 'mobilenetv2-features', detector: 'yolox-nano', missing: [] });
});

describe('whole-image analysis', () => {
  it('tags the daisy photo "daisy" at about 0.97-0.99, top 5 best first', async () => {
    const analysis = await analyzer.analyze(await readFile(DAISY), { detect: false });
    expect(analysis.tags).toHaveLength(5);
    expect(analysis.tags![0].name).toBe('daisy');
    expect(analysis.tags![0].probability).toBeGreaterThan(0.95);
    const probabilities = analysis.tags!.map((t) => t.probability);
    expect(probabilities).toEqual([...probabilities].sort((a, b) => b - a));
    expect(analysis.detections).toBeUndefined();
  });

  it('embeds into 1280 dims at unit length', async () => {
    const analysis = await analyzer.analyze(await readFile(DAISY), { detect: false });
    expect(analysis.embedding).toHaveLength(1280);
    expect(norm(analysis.embedding!)).toBeCloseTo(1, 5);
  });
});

describe('detection', () => {
  it('finds the person in daisy/9158041313 at ~0.90 near [95,7,320,228], with a crop embedding', async () => {
    const analysis = await analyzer.analyze(await readFile(PERSON), { detect: true });
    const person = analysis.detections?.find((d) => d.name === 'person');
    expect(person).toBeDefined();
    expect(person!.classIndex).toBe(0);
    expect(person!.score).toBeGreaterThan(0.85);
    person!.box.forEach((v, i) => expect(Math.abs(v - [95, 7, 320, 228][i])).toBeLessThanOrEqual(4));
    expect(person!.embedding).toHaveLength(1280);
    expect(norm(person!.embedding!)).toBeCloseTo(1, 5);
    // The crop is a different picture from the whole image.
    expect(maxAbsDiff(person!.embedding!, analysis.embedding!)).toBeGreaterThan(0.01);
  });

  it('boxes stay inside the image', async () => {
    const analysis = await analyzer.analyze(await readFile(PERSON), { detect: true, scoreThreshold: 0.05 });
    expect(analysis.detections!.length).toBeGreaterThan(1);
    for (const { box } of analysis.detections!) {
      expect(box[0]).toBeGreaterThanOrEqual(0);
      expect(box[1]).toBeGreaterThanOrEqual(0);
      expect(box[2]).toBeLessThanOrEqual(analysis.width);
      expect(box[3]).toBeLessThanOrEqual(analysis.height);
      expect(box[2]).toBeGreaterThan(box[0]);
      expect(box[3]).toBeGreaterThan(box[1]);
    }
  });

  it('thresholds are per call: a high score threshold removes the person', async () => {
    const analysis = await analyzer.analyze(await readFile(PERSON), { scoreThreshold: 0.95 });
    expect(analysis.detections).toEqual([]);
  });
});

describe('batching', () => {
  let images: Uint8Array[];
  beforeAll(async () => {
    const dir = path.join(FLOWERS, 'tulips');
    images = await Promise.all((await readdir(dir)).slice(0, 8).map((f) => readFile(path.join(dir, f))));
  });

  it('embeddings of a batch of 8 equal those made one at a time', async () => {
    const runner = await ModelRunner.open(embedder.manifest, path.join(MODELS, embedder.manifest.file));
    const runsBefore = runner.stats.runs;
    const batched = await embedder.embed(images);
    expect(batched).toHaveLength(8);
    expect(runner.stats.runs - runsBefore, 'one ONNX run for the 8 images').toBe(1);
    for (let i = 0; i < images.length; i++) {
      const [single] = await embedder.embed([images[i]]);
      expect(maxAbsDiff(batched[i], single)).toBeLessThan(1e-6);
    }
  });

  it('concurrent analyses share runs and give the same results as sequential ones', async () => {
    const concurrent = await Promise.all(images.map((b) => analyzer.analyze(b, { detect: false })));
    const first = await analyzer.analyze(images[0], { detect: false });
    expect(maxAbsDiff(concurrent[0].embedding!, first.embedding!)).toBeLessThan(1e-6);
    expect(concurrent[0].tags).toEqual(first.tags);
  });

  it('the analyzer and a standalone embedder agree on the whole-image embedding', async () => {
    const [fromEmbedder] = await embedder.embed([images[3]]);
    const analysis = await analyzer.analyze(images[3], { detect: false });
    expect(maxAbsDiff(fromEmbedder, analysis.embedding!)).toBeLessThan(1e-6);
    expect(embedder.dims).toBe(1280);
  });
});
