// `winnow export-model` and GET /api/projects/:id/classifier: the project's trained classifier, as one ONNX file (embedder
// graph + head + softmax, model-onnx.ts) or as a plain head (model-head.ts), with its model card: classes, labels,
// the figures the labeling view shows (held-out accuracy estimate, error on served samples), the embedder,
// its pre-processing and the date.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { WinnowError } from '../domain/errors.js';
import { MODEL_LAYOUT, type RegisteredModel } from '../domain/models.js';
import type { Stores } from '../domain/ports.js';
import { projectQuality } from '../domain/quality.js';
import { defaultManifestDir, loadManifests, parseManifest, type EmbeddingOutput, type ModelManifest } from '../vision/manifest.js';
import { projectClassifier, type ProjectClassifier } from './model-classifier.js';
import { headZip } from './model-head.js';
import { classifierOnnx, EMBEDDING_OUTPUT, PROBABILITIES_OUTPUT } from './model-onnx.js';

/** vision/decode.ts's DEFAULT_WORKING_SIDE (not imported: that module loads sharp, which the API does not ship; a test keeps them equal). */
export const WORKING_SIDE = 1600;

export const MODEL_FORMATS = ['onnx', 'head'] as const;
export type ModelFormat = (typeof MODEL_FORMATS)[number];

export interface ModelExportOptions {
  format: ModelFormat;
  /** Where the shipped embedders' ONNX files are (local/config.ts's model folder); absent, a shipped embedder is not exported here. */
  modelDir?: string;
  manifestDir?: string;
  /** The deployment's audit rate, for the accuracy estimate (as the labeling view reads it). */
  auditRate?: number;
  now?: Date;
}

export interface ModelExport {
  fileName: string;
  contentType: string;
  bytes: Uint8Array;
  card: ModelCard;
}

export interface ModelCard {
  format: 'winnow-classifier/1';
  project: { id: string; name: string };
  classes: string[];
  /** Classes with human labels in the fit; the others are predicted with probability ~0. */
  trainedClasses: string[];
  labels: { trainedOn: number; perClass: Record<string, number>; ambiguousExcluded: number };
  /** The held-out accuracy estimate the labeling view shows (audit stream, learning/audit.ts). */
  accuracyEstimate: { accuracy: number | null; low: number | null; high: number | null; auditedLabels: number; method: string };
  /** The error on served samples the labeling view shows (not an accuracy: served samples are the hardest). */
  liveError: { servedLabels: number; errorRate: number | null; windowErrorRate: number | null; window: number; brier: number | null };
  embedder: { name: string; sha256?: string | null; dims: number; output: string; token?: number };
  input?: { name: string; shape: (number | string)[]; layout: string; dtype: string };
  preprocessing?: ModelManifest['preprocess'] & { description: string };
  outputs: Record<string, string>;
  head: { lambda: number; temperature: number; centered: boolean; foldedIntoWeights: string };
  /** Which model this is: the trainer's own of ranking `generation` (what the labeling view shows), or a re-fit and why. */
  model: { source: 'trainer'; generation: number } | { source: 'refit'; reason: string };
  createdAt: string;
  note: string;
}

/** Where the embedder's graph comes from: a shipped model (manifest in models/, file in the model folder) or one registered in the bucket. */
interface EmbedderSource {
  manifest: ModelManifest;
  output: EmbeddingOutput;
  /** sha256 of the file: pinned in the manifest (shipped) or the registration's (registered). */
  sha256: string | null;
  file(): Promise<Uint8Array>;
}

async function embedderSource(stores: Stores, name: string, opts: ModelExportOptions): Promise<EmbedderSource | undefined> {
  const embeddingOutput = (m: ModelManifest) => m.outputs.find((o): o is EmbeddingOutput => o.decode === 'embedding');
  const shipped = (await loadManifests(opts.manifestDir ?? defaultManifestDir())).get(name);
  const shippedOutput = shipped && embeddingOutput(shipped);
  if (shipped && shippedOutput) {
    const modelDir = opts.modelDir;
    return {
      manifest: shipped,
      output: shippedOutput,
      sha256: shipped.sha256,
      file: () =>
        modelDir === undefined
          ? Promise.reject(new WinnowError('unavailable', `the embedder "${name}" (${shipped.file}) has no model folder on this server`))
          : readFile(path.join(modelDir, shipped.file)).catch(() => {
              throw new WinnowError('unavailable', `the embedder "${name}" (${shipped.file}) is not in ${modelDir} on this server: npm run models:fetch`);
            }),
    };
  }
  // The registration as vision/registry.ts stores it (read here directly: that module loads sharp and onnxruntime,
  // which the API does not ship).
  const stored = await stores.blobs.get(MODEL_LAYOUT.record(name));
  const record = stored && (JSON.parse(new TextDecoder().decode(stored.body)) as RegisteredModel);
  if (record?.role !== 'embedder') return undefined;
  const manifest = parseManifest(record.manifest, `registered model "${name}"`);
  const output = embeddingOutput(manifest);
  if (!output) return undefined;
  return {
    manifest,
    output,
    sha256: record.sha256,
    file: async () => {
      const object = await stores.blobs.get(MODEL_LAYOUT.file(record.sha256));
      if (!object) throw new WinnowError('unavailable', `the file of the registered embedder "${name}" is missing from the bucket`);
      const actual = createHash('sha256').update(object.body).digest('hex');
      if (actual !== record.sha256) throw new WinnowError('unavailable', `the file of the registered embedder "${name}" in the bucket is corrupt (sha256 ${actual})`);
      return object.body;
    },
  };
}

/** Builds the export; WinnowError('conflict') when there is no model yet or no ONNX file for the project's embedder. */
export async function exportProjectModel(stores: Stores, projectId: string, opts: ModelExportOptions): Promise<ModelExport> {
  const classifier = await projectClassifier(stores, projectId);
  const source = await embedderSource(stores, classifier.embedder, opts);
  if (opts.format === 'onnx' && !source) {
    throw new WinnowError(
      'conflict',
      `project "${projectId}" is trained on embeddings of "${classifier.embedder}", which Winnow has no ONNX model of ` +
        '(features brought from elsewhere): export the plain head instead (format "head")',
      { field: 'format' },
    );
  }
  const card = await modelCard(stores, classifier, source, opts);
  const base = `${projectId}-classifier`;
  if (opts.format === 'head') {
    return { fileName: `${base}-head.zip`, contentType: 'application/zip', bytes: headZip(classifier.model, classifier.project.classes, card), card };
  }
  const bytes = classifierOnnx({ embedder: await source!.file(), output: source!.output, model: classifier.model, classes: classifier.project.classes, card });
  return { fileName: `${base}.onnx`, contentType: 'application/octet-stream', bytes, card };
}

function describePreprocess(p: ModelManifest['preprocess'], input: ModelManifest['input']): string {
  const resize =
    p.resize === 'shorter-side-then-center-crop'
      ? `resize the shorter side to ${p.resizeTo} px (${p.kernel}), centre-crop ${p.crop}x${p.crop}`
      : `resize the longer side to ${p.size} px (${p.kernel}) at the top-left of a ${p.size}x${p.size} canvas of ${p.padValue}`;
  return (
    `The image upright (EXIF orientation applied), 8-bit sRGB, alpha flattened onto white, its longest side shrunk to ` +
    `${WORKING_SIDE} px when larger (a box sample: the box cut from that), ${p.channels}; ${resize}; pixel values x ${p.scale}, minus mean ` +
    `[${p.mean.join(', ')}], divided by std [${p.std.join(', ')}], per channel; float32 ${input.layout} [${input.shape.join(', ')}] as input "${input.name}".`
  );
}

async function modelCard(stores: Stores, c: ProjectClassifier, source: EmbedderSource | undefined, opts: ModelExportOptions): Promise<ModelCard> {
  const { project, model } = c;
  const manifest = source?.manifest;
  const output = source?.output;
  const quality = await projectQuality(stores, project.id, opts.auditRate);
  const perClass = Object.fromEntries(project.classes.map((name, i) => [name, model.fit.classCounts[i] ?? 0]));
  return {
    format: 'winnow-classifier/1',
    project: { id: project.id, name: project.name },
    classes: project.classes,
    trainedClasses: project.classes.filter((_, i) => model.present[i]),
    labels: { trainedOn: c.labels, perClass, ambiguousExcluded: model.fit.ambiguousExcluded },
    accuracyEstimate: {
      accuracy: finite(quality.accuracy.accuracy),
      low: finite(quality.accuracy.low),
      high: finite(quality.accuracy.high),
      auditedLabels: quality.accuracy.n,
      method: quality.accuracy.method,
    },
    liveError: { servedLabels: quality.count, errorRate: quality.errorRate, windowErrorRate: quality.windowErrorRate, window: quality.window, brier: quality.mse },
    embedder: {
      name: c.embedder,
      ...(source ? { sha256: source.sha256 } : {}),
      dims: model.dim,
      output: output?.name ?? 'features brought from elsewhere',
      ...(output?.token !== undefined ? { token: output.token } : {}),
    },
    ...(manifest ? { input: manifest.input, preprocessing: { ...manifest.preprocess, description: describePreprocess(manifest.preprocess, manifest.input) } } : {}),
    outputs: {
      [PROBABILITIES_OUTPUT]: `[batch, ${project.classes.length}] class probabilities in the order of "classes"`,
      [EMBEDDING_OUTPUT]: `[batch, ${model.dim}] the L2-normalised embedding the head reads (rounded to float16 and normalised again, as the app stores it)`,
    },
    head: {
      lambda: model.lambda,
      temperature: model.temperature ?? 1,
      centered: !!model.fit.centered,
      foldedIntoWeights: 'probabilities = softmax(weights @ x + bias), x the L2-normalised embedding: the centring and the temperature are folded into weights and bias',
    },
    model: c.origin,
    createdAt: (opts.now ?? new Date()).toISOString(),
    note:
      c.origin.source === 'trainer'
        ? `The model the trainer ranked with for ranking generation ${c.origin.generation}, as it saved it: the probabilities the ` +
          'labeling view shows (fitted on human labels only; auto-labels are never trained on).'
        : `Not the trainer's saved model (${c.origin.reason}): re-fitted by the trainer's own code on the project's human labels at ` +
          "export time. The labeling view's model is the same recipe warm-started from its previous retrains, so its " +
          'probabilities can differ slightly (tf_flowers_dev, 100 labels: same top class, at most 0.025 apart).',
  };
}

const finite = (x: number | null | undefined) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
