// Embeddings for a folder-per-class dataset, through the real pipeline when it exists.
// Prefers `functions/vision/analyzer.ts` (createEmbedder); until that lands, embeds with onnxruntime-node + sharp
// exactly as MODELS.md prescribes for mobilenetv2-12-int8-features.onnx. Results are cached in `.bench-cache/`
// keyed by file path + size + mtime + model sha + embedder, so re-running a bench does not re-embed.

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './paths.js';

export interface Embedder {
  /** Identifies how vectors were made (part of the cache key). */
  id: string;
  embed(images: Uint8Array[]): Promise<Float32Array[]>;
}

const MODEL_FILE = 'mobilenetv2-12-int8-features.onnx';
const BATCH = 8;

export async function createBenchEmbedder(modelDir: string): Promise<Embedder> {
  const modelPath = resolve(modelDir, MODEL_FILE);
  const modelSha = createHash('sha256').update(await readFile(modelPath)).digest('hex').slice(0, 16);
  const pipeline = resolve(REPO_ROOT, 'functions/vision/analyzer.ts');
  if (existsSync(pipeline)) {
    const mod = (await import(pathToFileURL(pipeline).href)) as {
      createEmbedder?: (opts: { modelDir: string }) => Promise<Omit<Embedder, 'id'>> | Omit<Embedder, 'id'>;
    };
    if (typeof mod.createEmbedder === 'function') {
      const embedder = await mod.createEmbedder({ modelDir });
      return { id: `pipeline-${modelSha}`, embed: (images) => embedder.embed(images) };
    }
  }
  return { id: `direct-${modelSha}`, ...(await directEmbedder(modelPath)) };
}

/** MODELS.md preprocessing: shorter side 256 (bilinear), centre crop 224, /255, ImageNet mean/std, NCHW RGB. */
async function directEmbedder(modelPath: string): Promise<Omit<Embedder, 'id'>> {
  const ort = await import('onnxruntime-node');
  const sharp = (await import('sharp')).default;
  const session = await ort.InferenceSession.create(modelPath);
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const plane = 224 * 224;

  async function tensorInto(bytes: Uint8Array, out: Float32Array, offset: number): Promise<void> {
    const meta = await sharp(bytes).metadata();
    const w = meta.width ?? 224;
    const h = meta.height ?? 224;
    const scale = 256 / Math.min(w, h);
    const rw = Math.max(224, Math.round(w * scale));
    const rh = Math.max(224, Math.round(h * scale));
    const { data } = await sharp(bytes)
      .removeAlpha()
      .toColourspace('srgb')
      .resize(rw, rh, { kernel: 'linear', fit: 'fill' })
      .extract({ left: Math.floor((rw - 224) / 2), top: Math.floor((rh - 224) / 2), width: 224, height: 224 })
      .raw()
      .toBuffer({ resolveWithObject: true });
    for (let p = 0; p < plane; p++) {
      for (let ch = 0; ch < 3; ch++) out[offset + ch * plane + p] = (data[p * 3 + ch] / 255 - mean[ch]) / std[ch];
    }
  }

  return {
    async embed(images) {
      const result: Float32Array[] = [];
      for (let start = 0; start < images.length; start += BATCH) {
        const batch = images.slice(start, start + BATCH);
        const input = new Float32Array(batch.length * 3 * plane);
        for (let i = 0; i < batch.length; i++) await tensorInto(batch[i], input, i * 3 * plane);
        const output = await session.run({ input: new ort.Tensor('float32', input, [batch.length, 3, 224, 224]) });
        const features = output.features.data as Float32Array;
        const dim = features.length / batch.length;
        for (let i = 0; i < batch.length; i++) result.push(features.slice(i * dim, (i + 1) * dim));
      }
      return result;
    },
  };
}

interface CacheIndex {
  embedder: string;
  dim: number;
  keys: string[];
}

/** Embeds `files` (absolute paths), reusing cached vectors; reports progress on stderr. */
export async function embedFiles(files: string[], embedder: Embedder, cacheDir = resolve(REPO_ROOT, '.bench-cache')): Promise<Float32Array[]> {
  const keys = await Promise.all(
    files.map(async (f) => {
      const s = await stat(f);
      return `${f}|${s.size}|${s.mtimeMs}`;
    }),
  );
  const name = createHash('sha256').update(embedder.id).update(keys.join('\n')).digest('hex').slice(0, 20);
  const indexPath = resolve(cacheDir, `emb-${name}.json`);
  const dataPath = resolve(cacheDir, `emb-${name}.f32`);
  if (existsSync(indexPath) && existsSync(dataPath)) {
    const index = JSON.parse(await readFile(indexPath, 'utf8')) as CacheIndex;
    const buf = await readFile(dataPath);
    const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    if (index.embedder === embedder.id && index.keys.length === keys.length && all.length === keys.length * index.dim) {
      return keys.map((_, i) => all.slice(i * index.dim, (i + 1) * index.dim));
    }
  }
  const vectors: Float32Array[] = [];
  const started = Date.now();
  for (let start = 0; start < files.length; start += 32) {
    const chunk = files.slice(start, start + 32);
    const images = await Promise.all(chunk.map((f) => readFile(f)));
    vectors.push(...(await embedder.embed(images.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)))));
    process.stderr.write(`\rembedding ${vectors.length}/${files.length} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  process.stderr.write('\n');
  const dim = vectors[0]?.length ?? 0;
  const all = new Float32Array(vectors.length * dim);
  vectors.forEach((v, i) => all.set(v, i * dim));
  await mkdir(cacheDir, { recursive: true });
  await writeFile(dataPath, new Uint8Array(all.buffer));
  await writeFile(indexPath, JSON.stringify({ embedder: embedder.id, dim, keys } satisfies CacheIndex));
  return vectors;
}
