// Model manifests: one JSON file per ONNX model in `models/` describing the file (name, sha256, where to get it),
// its input tensor, the exact pre-processing and how to decode each output. Every model, shipped or user-supplied,
// goes through this one schema and the same loading code.

import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { WinnowError } from '../domain/errors.js';
import { repoRoot } from '../repo-root.js';
import { cachedSha256 } from './file-hash.js';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256 (64 characters)');

const sourceSchema = z.object({
  /** Public download URL of the exact bytes, pinned to a commit. */
  url: z.string().url().optional(),
  /** Further URLs serving the same bytes, tried in order when `url` fails. */
  alternateUrls: z.array(z.string().url()).optional(),
  repository: z.string().optional(),
  commit: z.string().optional(),
  path: z.string().optional(),
  /** Name of the manifest whose file this one is built from by code in this repository (see `derivation`). */
  derivedFrom: z.string().optional(),
  /** Which recipe in functions/vision/derive.ts makes the file (from `derivedFrom`'s file, or from nothing). */
  derivation: z.string().optional(),
  notes: z.string().optional(),
});
export type ModelSource = z.infer<typeof sourceSchema>;

const labelsSchema = z.object({
  file: z.string().min(1),
  sha256: sha256Hex.nullable(),
  bytes: z.number().int().positive().nullable().optional(),
  source: sourceSchema.optional(),
});

const embeddingOutput = z.object({
  name: z.string(),
  decode: z.literal('embedding'),
  dims: z.number().int().positive(),
  /** For [batch, tokens, dims] outputs (ViTs): which token is the image embedding (0 = CLS). */
  token: z.number().int().nonnegative().optional(),
});

const softmaxOutput = z.object({
  name: z.string(),
  decode: z.literal('logits-softmax'),
  classes: z.number().int().positive(),
  labels: labelsSchema,
});

const yoloxOutput = z.object({
  name: z.string(),
  decode: z.literal('yolox'),
  strides: z.array(z.number().int().positive()).min(1),
  classes: z.number().int().positive(),
  scoreThreshold: z.number().min(0).max(1),
  iouThreshold: z.number().min(0).max(1),
  maxDetections: z.number().int().positive(),
  labels: labelsSchema,
});

/**
 * Ultralytics-style detector heads, decoded by the same family as YOLOX (detect.ts): `yolov5` is [1, N, 5 + classes]
 * rows of (cx, cy, w, h in input pixels, objectness, class scores); `yolov8` is [1, 4 + classes, N] columns of
 * (cx, cy, w, h, class scores), no objectness.
 */
const yoloOutput = (decode: 'yolov5' | 'yolov8') =>
  z.object({
    name: z.string(),
    decode: z.literal(decode),
    classes: z.number().int().positive(),
    scoreThreshold: z.number().min(0).max(1),
    iouThreshold: z.number().min(0).max(1),
    maxDetections: z.number().int().positive(),
    labels: labelsSchema,
  });
const yolov5Output = yoloOutput('yolov5');
const yolov8Output = yoloOutput('yolov8');

const outputSchema = z.discriminatedUnion('decode', [embeddingOutput, softmaxOutput, yoloxOutput, yolov5Output, yolov8Output]);
export type ModelOutput = z.infer<typeof outputSchema>;
export type EmbeddingOutput = z.infer<typeof embeddingOutput>;
export type SoftmaxOutput = z.infer<typeof softmaxOutput>;
export type YoloxOutput = z.infer<typeof yoloxOutput>;
export type Yolov5Output = z.infer<typeof yolov5Output>;
export type Yolov8Output = z.infer<typeof yolov8Output>;
/** Any output the detector family decodes into boxes. */
export type DetectorOutput = YoloxOutput | Yolov5Output | Yolov8Output;
export const DETECTOR_DECODES = ['yolox', 'yolov5', 'yolov8'] as const;
export const isDetectorOutput = (o: ModelOutput): o is DetectorOutput => (DETECTOR_DECODES as readonly string[]).includes(o.decode);

const channelStats = z.tuple([z.number(), z.number(), z.number()]);
const pixelCommon = {
  /** Resampling kernel for the resize (sharp names): 'linear' ~ bilinear, 'cubic' ~ bicubic. */
  kernel: z.enum(['nearest', 'linear', 'cubic', 'lanczos3']).default('linear'),
  /** Channel order of the planes in the tensor; mean/std are listed in this same order. */
  channels: z.enum(['RGB', 'BGR']),
  /** Multiplier applied to 0-255 pixel values before mean/std: "1/255" or a number (1 = raw 0-255). */
  scale: z.union([z.literal('1/255').transform(() => 1 / 255), z.number().positive()]),
  mean: channelStats,
  std: channelStats.refine((s) => s.every((v) => v > 0), 'std values must be > 0'),
};

const preprocessSchema = z.discriminatedUnion('resize', [
  z.object({
    /** Shorter side to `resizeTo` (aspect kept), then a centred `crop` x `crop` square. */
    resize: z.literal('shorter-side-then-center-crop'),
    resizeTo: z.number().int().positive(),
    crop: z.number().int().positive(),
    ...pixelCommon,
  }),
  z.object({
    /** Longer side to `size` (aspect kept), placed at the top-left of a `size` x `size` canvas of `padValue`. */
    resize: z.literal('letterbox-top-left'),
    size: z.number().int().positive(),
    padValue: z.number().int().min(0).max(255),
    ...pixelCommon,
  }),
]);
export type Preprocess = z.infer<typeof preprocessSchema>;

export const manifestSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lowercase letters, digits, ".", "_" and "-"'),
    description: z.string(),
    role: z.enum(['embedder', 'classifier', 'detector']),
    file: z.string().min(1),
    /** null when the hash could not be verified (the file then loads unverified and is reported "unpinned"). */
    sha256: sha256Hex.nullable(),
    bytes: z.number().int().positive().nullable(),
    sha256Note: z.string().optional(),
    license: z.string(),
    source: sourceSchema,
    input: z.object({
      name: z.string(),
      /** Numbers are fixed sizes; a string (e.g. "batch") is a dynamic dimension. */
      shape: z.tuple([z.union([z.number().int().positive(), z.string()]), z.literal(3), z.number().int(), z.number().int()]),
      layout: z.literal('NCHW'),
      dtype: z.literal('float32'),
    }),
    preprocess: preprocessSchema,
    outputs: z.array(outputSchema).min(1),
    /** Largest batch one run may take (1 for fixed-batch models such as YOLOX). */
    maxBatch: z.number().int().positive(),
  })
  .superRefine((m, ctx) => {
    const side = m.preprocess.resize === 'letterbox-top-left' ? m.preprocess.size : m.preprocess.crop;
    if (m.input.shape[2] !== side || m.input.shape[3] !== side) {
      ctx.addIssue({ code: 'custom', path: ['input', 'shape'], message: `input is ${m.input.shape[2]}x${m.input.shape[3]} but preprocess makes ${side}x${side}` });
    }
    const fixedBatch = m.input.shape[0];
    if (typeof fixedBatch === 'number' && m.maxBatch > fixedBatch) {
      ctx.addIssue({ code: 'custom', path: ['maxBatch'], message: `the input batch is fixed at ${fixedBatch}` });
    }
    const needs = { embedder: ['embedding'], classifier: ['logits-softmax'], detector: DETECTOR_DECODES } as const;
    if (!m.outputs.some((o) => (needs[m.role] as readonly string[]).includes(o.decode))) {
      ctx.addIssue({ code: 'custom', path: ['outputs'], message: `a ${m.role} needs an output with decode ${needs[m.role].map((d) => `"${d}"`).join(' or ')}` });
    }
  });

export type ModelManifest = z.infer<typeof manifestSchema>;

/** Where the shipped manifests live: `<repo>/models` (the ingest image names its own folder: WINNOW_MANIFESTS in adapters/aws/env.ts). */
export function defaultManifestDir(): string {
  return path.join(repoRoot(), 'models');
}

/** The per-user cache folder models are fetched into when no other folder is given or found. */
export function userModelCache(env: NodeJS.ProcessEnv): string {
  const cacheHome = env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), '.cache');
  return path.resolve(cacheHome, 'winnow', 'models');
}

/**
 * Where model files live, the one default used by `npm start`, the CLI and `cdk synth` (their configuration passes
 * the environment in: local/config.ts, infra/model-weights.ts): env WINNOW_MODELS; else the
 * team's `../shared/models` beside the checkout when that folder exists (as on CI); else the user cache folder
 * (`$XDG_CACHE_HOME/winnow/models`, by default `~/.cache/winnow/models`), which `npm run models:fetch` and the first
 * `npm start` fill.
 */
export function defaultModelDir(env: NodeJS.ProcessEnv, shared = path.resolve(repoRoot(), '..', 'shared', 'models')): string {
  if (env.WINNOW_MODELS) return path.resolve(env.WINNOW_MODELS);
  return existsSync(shared) ? shared : userModelCache(env);
}

/** Parses one manifest; the error names the manifest and every invalid field. */
export function parseManifest(json: unknown, origin: string): ModelManifest {
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new WinnowError('internal', `invalid model manifest ${origin}: ${fields}`);
  }
  return parsed.data;
}

/** Loads every `*.json` manifest in the folder, keyed by name. */
export async function loadManifests(manifestDir = defaultManifestDir()): Promise<Map<string, ModelManifest>> {
  const names = (await readdir(manifestDir)).filter((f) => f.endsWith('.json')).sort();
  const manifests = new Map<string, ModelManifest>();
  for (const fileName of names) {
    const origin = path.join(manifestDir, fileName);
    let json: unknown;
    try {
      json = JSON.parse(await readFile(origin, 'utf8'));
    } catch (err) {
      throw new WinnowError('internal', `invalid model manifest ${origin}: ${(err as Error).message}`);
    }
    const manifest = parseManifest(json, origin);
    if (`${manifest.name}.json` !== fileName) {
      throw new WinnowError('internal', `model manifest ${origin} is named "${manifest.name}": rename the file to ${manifest.name}.json`);
    }
    manifests.set(manifest.name, manifest);
  }
  return manifests;
}

export async function loadManifest(name: string, manifestDir = defaultManifestDir()): Promise<ModelManifest> {
  const manifest = (await loadManifests(manifestDir)).get(name);
  if (!manifest) throw new WinnowError('bad_request', `no model manifest named "${name}" in ${manifestDir}`);
  return manifest;
}

/** One line saying where to get a file, for error messages and `status()`. */
export function describeSource(source: ModelSource | undefined): string {
  if (!source) return 'no public source recorded';
  if (source.url) return source.url;
  if (source.repository) {
    const at = source.commit ? `@${source.commit}` : '';
    return `${source.repository}${at}${source.path ? `:${source.path}` : ''}`;
  }
  if (source.derivedFrom) return `the "${source.derivedFrom}" model's file, derived by \`npm run models:fetch\``;
  if (source.derivation) return `\`npm run models:fetch\`, which generates it`;
  return source.notes ?? 'no public source recorded';
}

/** The models ingest and `npm start` use by default: the embedder (also the tagger) and the detector. */
export const DEFAULT_MODELS = ['mobilenetv2-features', 'yolox-nano'] as const;

/** One file a manifest needs: the model itself or a labels file. */
export interface RequiredFile {
  manifest: string;
  file: string;
  sha256: string | null;
  bytes: number | null;
  source: string;
}

export function requiredFiles(m: ModelManifest): RequiredFile[] {
  const files: RequiredFile[] = [
    { manifest: m.name, file: m.file, sha256: m.sha256, bytes: m.bytes, source: describeSource(m.source) },
  ];
  for (const o of m.outputs) {
    if (o.decode === 'embedding') continue;
    if (files.some((f) => f.file === o.labels.file)) continue;
    files.push({ manifest: m.name, file: o.labels.file, sha256: o.labels.sha256, bytes: o.labels.bytes ?? null, source: describeSource(o.labels.source) });
  }
  return files;
}

export interface PresentModelFile {
  manifest: string;
  file: string;
  path: string;
  sha256: string;
  /** False when the manifest has no sha256 to compare with (loaded unverified). */
  verified: boolean;
}
export interface MissingModelFile {
  manifest: string;
  file: string;
  sha256: string | null;
  source: string;
  message: string;
}
export interface CorruptModelFile {
  manifest: string;
  file: string;
  path: string;
  expected: string;
  actual: string;
  message: string;
}
export interface ModelCheck {
  modelDir: string;
  present: PresentModelFile[];
  missing: MissingModelFile[];
  corrupt: CorruptModelFile[];
  /** Manifests whose files are all present and intact. */
  usable: string[];
}

export interface CheckModelsOptions {
  /** Which manifests to check; default: every manifest in `manifestDir`. */
  manifests?: ModelManifest[];
  manifestDir?: string;
  /** sha256 cache file, or false for memory only. */
  hashCacheFile?: string | false;
}

/**
 * Checks that every file the manifests need is in `modelDir` with the expected size and sha256. Never throws for
 * missing or corrupt files: the caller decides (the analyzer runs without a missing model, refuses a corrupt one).
 */
export async function checkModels(modelDir: string, opts: CheckModelsOptions = {}): Promise<ModelCheck> {
  const manifests = opts.manifests ?? [...(await loadManifests(opts.manifestDir)).values()];
  const check: ModelCheck = { modelDir, present: [], missing: [], corrupt: [], usable: [] };
  for (const m of manifests) {
    let usable = true;
    for (const req of requiredFiles(m)) {
      const result = await checkFile(modelDir, req, opts.hashCacheFile);
      if ('expected' in result) check.corrupt.push(result);
      else if ('message' in result) check.missing.push(result);
      else check.present.push(result);
      usable &&= 'path' in result && !('expected' in result);
    }
    if (usable) check.usable.push(m.name);
  }
  return check;
}

async function checkFile(
  modelDir: string,
  req: RequiredFile,
  hashCacheFile: string | false | undefined,
): Promise<PresentModelFile | MissingModelFile | CorruptModelFile> {
  const filePath = path.join(modelDir, req.file);
  const size = await stat(filePath).then((s) => (s.isFile() ? s.size : undefined), () => undefined);
  if (size === undefined) {
    const expected = req.sha256 ? `sha256 ${req.sha256}` : 'sha256 not pinned yet';
    return {
      manifest: req.manifest,
      file: req.file,
      sha256: req.sha256,
      source: req.source,
      message: `model file ${req.file} (model "${req.manifest}") is missing from ${modelDir}; expected ${expected}; get it from ${req.source}`,
    };
  }
  const corrupt = (actual: string, why: string): CorruptModelFile => ({
    manifest: req.manifest,
    file: req.file,
    path: filePath,
    expected: req.sha256 ?? '',
    actual,
    message: `model file ${filePath} (model "${req.manifest}") is corrupt: ${why}; expected sha256 ${req.sha256}. Replace it with the file from ${req.source}`,
  });
  // A size mismatch is proof enough, and much cheaper than hashing.
  if (req.bytes !== null && size !== req.bytes) return corrupt('', `it has ${size} bytes instead of ${req.bytes}`);
  const actual = await cachedSha256(filePath, hashCacheFile);
  if (req.sha256 !== null && actual !== req.sha256) return corrupt(actual, `its sha256 is ${actual}`);
  return { manifest: req.manifest, file: req.file, path: filePath, sha256: actual, verified: req.sha256 !== null };
}

/** Throws the corrupt-file error (naming file and expected sha256) if any checked file is corrupt. */
export function assertNoCorruptModels(check: ModelCheck): void {
  if (check.corrupt.length > 0) {
    throw new WinnowError('unavailable', check.corrupt.map((c) => c.message).join('\n'), { corrupt: check.corrupt });
  }
}
