// The ImageAnalyzer port implemented with sharp + onnxruntime: one decode per image, then WebP copies, the
// whole-image embedding, ImageNet-style tags and detector boxes (each with its own crop embedding). A model whose
// file is missing is simply left out (status() says which and where to get it); a corrupt file stops start-up.

import path from 'node:path';
import type { ImageAnalysis, ImageAnalyzer } from '../domain/ports.js';
import { WinnowError } from '../domain/errors.js';
import { decodeImage, DEFAULT_WORKING_SIDE, type DecodedImage } from './decode.js';
import { openEmbedder, DEFAULT_EMBEDDER, type Embedder } from './embedder.js';
import { loadLabels } from './labels.js';
import {
  assertNoCorruptModels,
  checkModels,
  loadManifests,
  type ModelCheck,
  type ModelManifest,
  isDetectorOutput,
  type DetectorOutput,
  type SoftmaxOutput,
} from './manifest.js';
import { ModelRunner } from './onnx.js';
import { topClasses } from './outputs.js';
import { imageTensor, originalIsDisplayable, webpCopies } from './preprocess.js';
import { decodeDetections, type ClassMap, type Detection } from './detect.js';

export { createEmbedder, type Embedder, type EmbedderOptions } from './embedder.js';

export const DEFAULT_TAGGER = 'mobilenetv2-features';
export const DEFAULT_DETECTOR = 'yolox-nano';

export interface ImageAnalyzerOptions {
  /** Folder holding the model files (the configuration's: local/config.ts, adapters/aws/env.ts). */
  modelDir: string;
  /** Folder holding the manifests; default env WINNOW_MANIFESTS or <repo>/models. */
  manifestDir?: string;
  /** Manifest names; null turns that part off. Defaults: mobilenetv2-features, mobilenetv2-features, yolox-nano. */
  embedder?: string | null;
  tagger?: string | null;
  detector?: string | null;
  /** Pixel limit per image; default 40 MP. */
  maxPixels?: number;
  /** Longest side of the thumbnail (default 256) and of the display copy (default 1600, at most 1600). */
  thumbnailSide?: number;
  displaySide?: number;
  /** How many tags to return (default 5). */
  topTags?: number;
  hashCacheFile?: string | false;
  /**
   * Told how long each part of every analysis took, in ms of wall time (for benchmarks). Parts run concurrently,
   * so durations overlap; 'embed' and 'detect' include waiting for the shared session. Unset: nothing is timed.
   */
  onStage?: (stage: AnalyzeStage, ms: number) => void;
}

/** decode: file to working pixels; copies: WebP thumbnail + display; tensor: model inputs (crops too). */
export type AnalyzeStage = 'decode' | 'copies' | 'tensor' | 'embed' | 'detect';

type StageTimer = ImageAnalyzerOptions['onStage'];

function timed<T>(onStage: StageTimer, stage: AnalyzeStage, work: () => Promise<T>): Promise<T> {
  if (!onStage) return work();
  const start = performance.now();
  return work().finally(() => onStage(stage, performance.now() - start));
}

export interface VisionAnalyzer extends ImageAnalyzer {
  /** The embedder in use (also used for crops), absent when its file is missing or it is turned off. */
  readonly embedder?: Embedder;
  /** Result of the model-file check made at start-up. */
  readonly models: ModelCheck;
  /**
   * The same analysis with another embedder and/or detector in place of the defaults (a project's registered
   * models, see registry.ts); the analysis names the embedder its embedding came from.
   */
  analyzeWith(bytes: Uint8Array, opts: AnalyzeOptions, models: { embedder?: Embedder; detector?: Detector }): Promise<ImageAnalysis>;
}

interface Tagger {
  runner: ModelRunner;
  output: SoftmaxOutput;
  labels: string[];
}
export interface Detector {
  runner: ModelRunner;
  output: DetectorOutput;
  labels: string[];
  /** Model class -> project class; classes left out are dropped (set when a model is registered). */
  classMap?: ClassMap;
}

export async function createImageAnalyzer(opts: ImageAnalyzerOptions): Promise<VisionAnalyzer> {
  const modelDir = opts.modelDir;
  const all = await loadManifests(opts.manifestDir);
  const pick = (name: string | null | undefined, fallback: string): ModelManifest | undefined => {
    const wanted = name === undefined ? fallback : name;
    if (wanted === null) return undefined;
    const manifest = all.get(wanted);
    if (!manifest) throw new WinnowError('bad_request', `no model manifest named "${wanted}" (known: ${[...all.keys()].join(', ')})`);
    return manifest;
  };
  const chosen = {
    embedder: pick(opts.embedder, DEFAULT_EMBEDDER),
    tagger: pick(opts.tagger, DEFAULT_TAGGER),
    detector: pick(opts.detector, DEFAULT_DETECTOR),
  };
  const manifests = [...new Set(Object.values(chosen).filter((m): m is ModelManifest => m !== undefined))];
  const models = await checkModels(modelDir, { manifests, hashCacheFile: opts.hashCacheFile });
  assertNoCorruptModels(models);
  const usable = (m: ModelManifest | undefined) => (m && models.usable.includes(m.name) ? m : undefined);

  const embedderManifest = usable(chosen.embedder);
  // Each model loads on its own inference thread: at once, which shortens a cold start.
  const [embedder, tagger, detector] = await Promise.all([
    embedderManifest ? openEmbedder(embedderManifest, modelDir, opts.maxPixels) : undefined,
    openTagger(usable(chosen.tagger), modelDir),
    openDetector(usable(chosen.detector), modelDir),
  ]);
  const missing = models.missing.map((m) => m.message);
  const pipeline = { embedder, tagger, detector, opts };

  return {
    embedder,
    models,
    analyze: (bytes, analyzeOpts = {}) => analyzeImage(pipeline, bytes, analyzeOpts),
    analyzeWith: (bytes, analyzeOpts, models) =>
      analyzeImage({ ...pipeline, embedder: models.embedder ?? embedder, detector: models.detector ?? detector }, bytes, analyzeOpts ?? {}),
    status: () => ({ embedder: embedder?.name, tagger: tagger?.runner.manifest.name, detector: detector?.runner.manifest.name, missing }),
  };
}

async function openTagger(manifest: ModelManifest | undefined, modelDir: string): Promise<Tagger | undefined> {
  if (!manifest) return undefined;
  const output = manifest.outputs.find((o): o is SoftmaxOutput => o.decode === 'logits-softmax');
  if (!output) throw new WinnowError('bad_request', `model "${manifest.name}" has no class-logits output to tag with`);
  const runner = await ModelRunner.open(manifest, path.join(modelDir, manifest.file));
  return { runner, output, labels: await loadLabels(modelDir, output.labels.file, output.classes) };
}

export async function openDetector(manifest: ModelManifest | undefined, modelDir: string, classMap?: ClassMap): Promise<Detector | undefined> {
  if (!manifest) return undefined;
  const output = manifest.outputs.find(isDetectorOutput);
  if (!output) throw new WinnowError('bad_request', `model "${manifest.name}" has no detector output (yolox, yolov5 or yolov8) to detect with`);
  const runner = await ModelRunner.open(manifest, path.join(modelDir, manifest.file));
  return { runner, output, labels: await loadLabels(modelDir, output.labels.file, output.classes), ...(classMap ? { classMap } : {}) };
}

export type AnalyzeOptions = Parameters<ImageAnalyzer['analyze']>[1] & {};

async function analyzeImage(
  p: { embedder?: Embedder; tagger?: Tagger; detector?: Detector; opts: ImageAnalyzerOptions },
  bytes: Uint8Array,
  opts: AnalyzeOptions,
): Promise<ImageAnalysis> {
  const t = p.opts.onStage;
  const image = await timed(t, 'decode', () => decodeImage(bytes, { maxPixels: p.opts.maxPixels }));
  const detect = p.detector && opts.detect !== false ? detectWithEmbeddings(p.detector, p.embedder, image, opts, t) : undefined;
  const displaySide = Math.min(p.opts.displaySide ?? DEFAULT_WORKING_SIDE, DEFAULT_WORKING_SIDE);
  const display = !originalIsDisplayable(bytes, image, displaySide);
  const [copies, whole, detections] = await Promise.all([
    timed(t, 'copies', () => webpCopies(image, { thumbnailSide: p.opts.thumbnailSide, displaySide, display })),
    wholeImage(p.embedder, p.tagger, image, p.opts.topTags ?? 5, t),
    detect,
  ]);
  return {
    width: image.width,
    height: image.height,
    format: image.format,
    thumbnail: copies.thumbnail,
    ...(copies.display ? { display: copies.display } : {}),
    ...whole,
    ...(whole.embedding && p.embedder ? { embeddingModel: p.embedder.name } : {}),
    ...(detections ? { detections } : {}),
  };
}

/** Embedding and tags; when the tagger is the embedder's own model (the default), one run gives both. */
async function wholeImage(embedder: Embedder | undefined, tagger: Tagger | undefined, image: DecodedImage, topTags: number, t: StageTimer) {
  let embedding: Float32Array | undefined;
  let logits: Float32Array | undefined;
  if (embedder && tagger?.runner.manifest === embedder.manifest) {
    const tensor = await timed(t, 'tensor', () => embedder.tensor(image));
    const outputs = await timed(t, 'embed', () => embedder.run(tensor.data, { transfer: true }));
    embedding = embedder.fromOutputs(outputs);
    logits = outputs[tagger.output.name].data;
  } else {
    [embedding, logits] = await Promise.all([
      embedder
        ? timed(t, 'tensor', () => embedder.tensor(image)).then(async (x) => (await timed(t, 'embed', () => embedder.embedTensors([x.data], { transfer: true })))[0])
        : undefined,
      tagger
        ? timed(t, 'tensor', () => imageTensor(image, tagger.runner.manifest.preprocess)).then(
            async (x) => (await timed(t, 'embed', () => tagger.runner.run(x.data, { transfer: true })))[tagger.output.name].data,
          )
        : undefined,
    ]);
  }
  const tags = tagger && logits ? topClasses(logits, tagger.labels, topTags).map(({ name, probability }) => ({ name, probability })) : undefined;
  return { ...(embedding ? { embedding } : {}), ...(tags ? { tags } : {}) };
}

async function detectWithEmbeddings(
  detector: Detector,
  embedder: Embedder | undefined,
  image: DecodedImage,
  opts: AnalyzeOptions,
  t: StageTimer,
): Promise<ImageAnalysis['detections']> {
  const tensor = await timed(t, 'tensor', () => imageTensor(image, detector.runner.manifest.preprocess));
  const found: Detection[] = await timed(t, 'detect', async () => {
    const outputs = await detector.runner.run(tensor.data, { transfer: true });
    return decodeDetections(outputs[detector.output.name], detector.output, detector.labels, tensor, image, {
      scoreThreshold: opts.scoreThreshold ?? detector.output.scoreThreshold,
      iouThreshold: opts.iouThreshold ?? detector.output.iouThreshold,
      maxDetections: detector.output.maxDetections,
      ...(detector.classMap ? { classMap: detector.classMap } : {}),
    });
  });
  if (!embedder || found.length === 0) return found;
  const crops = await timed(t, 'tensor', () => Promise.all(found.map((d) => embedder.tensor(image, d.box))));
  const embeddings = await timed(t, 'embed', () => embedder.embedTensors(crops.map((c) => c.data), { transfer: true }));
  return found.map((d, i) => ({ ...d, embedding: embeddings[i] }));
}
