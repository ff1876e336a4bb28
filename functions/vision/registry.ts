// Registered models at run time: records in the bucket (functions/domain/models.ts), files fetched from the bucket
// into a local cache folder named by sha256 (the ingest Lambda's /tmp in the cloud, the data folder locally) and
// checked against it, then opened like the shipped models. `registryAnalyzer` lets ingest use a project's
// registered embedder or detector in place of the stack's defaults.

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { WinnowError } from '../domain/errors.js';
import { MODEL_LAYOUT, type RegisteredModel } from '../domain/models.js';
import type { BlobStore, ImageAnalyzer } from '../domain/ports.js';
import { openDetector, type AnalyzeOptions, type Detector, type VisionAnalyzer } from './analyzer.js';
import { openEmbedder, type Embedder } from './embedder.js';
import { assertNoCorruptModels, checkModels, parseManifest, type ModelManifest } from './manifest.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Labels of a registered model as the JSON bytes stored (content-addressed) and the manifest's labels entry. */
export function labelsFile(labels: readonly string[]) {
  const bytes = new TextEncoder().encode(`${JSON.stringify(labels)}\n`);
  const hash = sha256(bytes);
  return { bytes, entry: { file: `${hash}.json`, sha256: hash, bytes: bytes.byteLength } };
}

/**
 * Makes `<cacheDir>/<sha256>.onnx` (and a labels file) present, fetching from the bucket when absent; the bytes are
 * checked against the sha256 before they are kept. Returns the folder to open the manifest from.
 */
export async function ensureLocalFile(blobs: BlobStore, cacheDir: string, hash: string, ext: '.onnx' | '.json'): Promise<string> {
  const target = path.join(cacheDir, `${hash}${ext}`);
  if (await stat(target).then((s) => s.isFile(), () => false)) return target;
  const object = await blobs.get(MODEL_LAYOUT.file(hash));
  if (!object) throw new WinnowError('unavailable', `model file models/${hash} is missing from the bucket`);
  const actual = sha256(object.body);
  if (actual !== hash) throw new WinnowError('unavailable', `model file models/${hash} in the bucket is corrupt: its sha256 is ${actual}`);
  await mkdir(cacheDir, { recursive: true });
  const tmp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, object.body);
  await rename(tmp, target);
  return target;
}

/** The record's manifest, with its files present and verified in `cacheDir`. */
export async function localManifest(blobs: BlobStore, cacheDir: string, record: RegisteredModel): Promise<ModelManifest> {
  const manifest = parseManifest(record.manifest, `registered model "${record.name}"`);
  await ensureLocalFile(blobs, cacheDir, record.sha256, '.onnx');
  for (const o of manifest.outputs) {
    if (o.decode !== 'embedding' && o.labels.sha256) await ensureLocalFile(blobs, cacheDir, o.labels.sha256, '.json');
  }
  const check = await checkModels(cacheDir, { manifests: [manifest], hashCacheFile: false });
  assertNoCorruptModels(check);
  if (check.missing.length) throw new WinnowError('unavailable', check.missing.map((m) => m.message).join('\n'));
  return manifest;
}

export async function readRecord(blobs: BlobStore, name: string): Promise<RegisteredModel | undefined> {
  const object = await blobs.get(MODEL_LAYOUT.record(name));
  return object ? (JSON.parse(new TextDecoder().decode(object.body)) as RegisteredModel) : undefined;
}

/** Registered models opened for inference, each once per process (files cached locally by sha256). */
export class ModelRegistry {
  private readonly records = new Map<string, { at: number; record: Promise<RegisteredModel | undefined> }>();
  private readonly embedders = new Map<string, Promise<Embedder>>();
  private readonly detectors = new Map<string, Promise<Detector>>();

  constructor(
    readonly blobs: BlobStore,
    readonly cacheDir: string,
    private readonly opts: { recordTtlMs?: number; maxPixels?: number } = {},
  ) {}

  /** The record (cached for a few seconds: ingest asks once per image). */
  record(name: string): Promise<RegisteredModel | undefined> {
    const cached = this.records.get(name);
    if (cached && Date.now() - cached.at < (this.opts.recordTtlMs ?? 5000)) return cached.record;
    const record = readRecord(this.blobs, name);
    this.records.set(name, { at: Date.now(), record });
    record.catch(() => this.records.delete(name));
    return record;
  }

  /** Keyed by sha256 and manifest: the same file registered twice shares its session. */
  private key(record: RegisteredModel) {
    return `${record.name}|${record.sha256}|${sha256(new TextEncoder().encode(JSON.stringify([record.manifest, record.classMap ?? null])))}`;
  }

  embedder(record: RegisteredModel): Promise<Embedder> {
    if (record.role !== 'embedder') return Promise.reject(new WinnowError('bad_request', `model "${record.name}" is a ${record.role}, not an embedder`));
    return this.open(this.embedders, record, async (m) => openEmbedder(m, this.cacheDir, this.opts.maxPixels));
  }

  detector(record: RegisteredModel): Promise<Detector> {
    if (record.role !== 'detector') return Promise.reject(new WinnowError('bad_request', `model "${record.name}" is a ${record.role}, not a detector`));
    return this.open(this.detectors, record, async (m) => (await openDetector(m, this.cacheDir, record.classMap))!);
  }

  private open<T>(cache: Map<string, Promise<T>>, record: RegisteredModel, make: (m: ModelManifest) => Promise<T>): Promise<T> {
    const key = this.key(record);
    let opened = cache.get(key);
    if (!opened) {
      opened = localManifest(this.blobs, this.cacheDir, record).then(make);
      opened.catch(() => cache.delete(key));
      cache.set(key, opened);
    }
    return opened;
  }
}

/**
 * The analyzer ingest uses: a project naming a registered embedder or detector (`embedding.model`,
 * `detection.model`) gets it; any other name (a shipped model, an imported feature set) keeps the stack's
 * default models.
 */
export function registryAnalyzer(base: VisionAnalyzer, registry: ModelRegistry): ImageAnalyzer {
  const own = base.status();
  const registered = async (name: string | undefined, role: RegisteredModel['role'], builtIn: string | undefined) => {
    if (!name || name === builtIn) return undefined;
    const record = await registry.record(name);
    return record?.role === role ? record : undefined;
  };
  return {
    status: () => base.status(),
    async analyze(bytes, opts: AnalyzeOptions = {}) {
      const [embedderRecord, detectorRecord] = await Promise.all([
        registered(opts.embedder, 'embedder', own.embedder),
        opts.detect === false ? undefined : registered(opts.detector, 'detector', own.detector),
      ]);
      if (!embedderRecord && !detectorRecord) return base.analyze(bytes, opts);
      const [embedder, detector] = await Promise.all([
        embedderRecord && registry.embedder(embedderRecord),
        detectorRecord && registry.detector(detectorRecord),
      ]);
      return base.analyzeWith(bytes, opts, { embedder, detector });
    },
  };
}
