// The whole-image embedder on its own (decode -> tensor -> batched ONNX run -> L2-normalised vector), for ingest
// crops and for benchmarks that need embeddings without the rest of the analysis.

import path from 'node:path';
import type { Box } from '../domain/model.js';
import { WinnowError } from '../domain/errors.js';
import { decodeImage, type DecodedImage } from './decode.js';
import {
  assertNoCorruptModels,
  checkModels,
  loadManifests,
  type EmbeddingOutput,
  type ModelManifest,
} from './manifest.js';
import { ModelRunner, type ItemOutputs } from './onnx.js';
import { embeddingOf } from './outputs.js';
import { imageTensor, type ImageTensor } from './preprocess.js';

import { DEFAULT_EMBEDDER } from './default-embedder.js';

export { DEFAULT_EMBEDDER };

export interface Embedder {
  /** Manifest name, e.g. 'mobilenetv2-features'. */
  readonly name: string;
  /** Length of every embedding. */
  readonly dims: number;
  readonly manifest: ModelManifest;
  /** Decode, pre-process and embed each image (batched); vectors are L2-normalised. */
  embed(images: Uint8Array[]): Promise<Float32Array[]>;
  /** Pre-processing only: the model input for a decoded image, or for `box` (original pixels) inside it. */
  tensor(image: DecodedImage, box?: Box): Promise<ImageTensor>;
  /**
   * Inference only, on tensors from `tensor()` (batched up to the manifest's maxBatch). With `transfer` the caller
   * hands the tensors over and must not read them afterwards (see ModelRunner.run).
   */
  embedTensors(tensors: Float32Array[], opts?: { transfer?: boolean }): Promise<Float32Array[]>;
  /** Lower level, for callers that also want the model's other outputs from the same run (e.g. logits as tags). */
  run(tensor: Float32Array, opts?: { transfer?: boolean }): Promise<ItemOutputs>;
  fromOutputs(outputs: ItemOutputs): Float32Array;
}

export interface EmbedderOptions {
  modelDir: string;
  manifestDir?: string;
  /** Manifest name; default 'mobilenetv2-features'. */
  manifest?: string;
  /** Pixel limit for `embed()` inputs; default 40 MP. */
  maxPixels?: number;
  hashCacheFile?: string | false;
}

/** Opens the embedder; throws WinnowError('unavailable') naming the file, its sha256 and source if it is missing or corrupt. */
export async function createEmbedder(opts: EmbedderOptions): Promise<Embedder> {
  const modelDir = opts.modelDir;
  const name = opts.manifest ?? DEFAULT_EMBEDDER;
  const manifest = (await loadManifests(opts.manifestDir)).get(name);
  if (!manifest) throw new WinnowError('bad_request', `no model manifest named "${name}"`);
  const check = await checkModels(modelDir, { manifests: [manifest], hashCacheFile: opts.hashCacheFile });
  assertNoCorruptModels(check);
  if (check.missing.length > 0) throw new WinnowError('unavailable', check.missing.map((m) => m.message).join('\n'));
  return openEmbedder(manifest, modelDir, opts.maxPixels);
}

/** An embedder for a manifest whose files were already checked. */
export async function openEmbedder(manifest: ModelManifest, modelDir: string, maxPixels?: number): Promise<Embedder> {
  const output = manifest.outputs.find((o): o is EmbeddingOutput => o.decode === 'embedding');
  if (!output) throw new WinnowError('bad_request', `model "${manifest.name}" has no embedding output`);
  const runner = await ModelRunner.open(manifest, path.join(modelDir, manifest.file));
  const fromOutputs = (outputs: ItemOutputs) => embeddingOf(output, outputs);
  const embedTensors = async (tensors: Float32Array[], opts?: { transfer?: boolean }) => (await runner.runMany(tensors, opts)).map(fromOutputs);
  const tensor = (image: DecodedImage, box?: Box) => imageTensor(image, manifest.preprocess, box);
  return {
    name: manifest.name,
    dims: output.dims,
    manifest,
    tensor,
    embedTensors,
    fromOutputs,
    run: (data, opts) => runner.run(data, opts),
    async embed(images) {
      const tensors = await Promise.all(
        images.map(async (bytes) => (await tensor(await decodeImage(bytes, { maxPixels }))).data),
      );
      return embedTensors(tensors, { transfer: true });
    },
  };
}
