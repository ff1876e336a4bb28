// The floor for the ingest bench: the same ONNX sessions the analyzer uses, run on tensors made beforehand, for
// the same amount of work the pipeline did (whole-image embeddings, crop embeddings, detector runs). No decoding,
// no resizing, no storage: what the models alone cost on this machine. Embeddings run in full batches (the
// manifest's maxBatch), the detector one image at a time (its only batch size); the two run one after the other.

import path from 'node:path';
import { decodeImage } from '../../../functions/vision/decode.js';
import type { Embedder } from '../../../functions/vision/embedder.js';
import type { ModelManifest } from '../../../functions/vision/manifest.js';
import { ModelRunner } from '../../../functions/vision/onnx.js';
import { imageTensor } from '../../../functions/vision/preprocess.js';

export interface FloorWork {
  embeddings: number;
  detections: number;
}

export interface FloorResult {
  embedMs: number;
  detectMs: number;
  totalMs: number;
  embedBatch: number;
}

export interface FloorModels {
  embedder: Embedder;
  detector?: { runner: ModelRunner };
}

/** Tensors for a handful of real images, reused round-robin (inference time does not depend on the pixels). */
export async function premadeTensors(models: FloorModels, images: Uint8Array[]) {
  const decoded = await Promise.all(images.map((bytes) => decodeImage(bytes)));
  const embed = await Promise.all(decoded.map(async (d) => (await models.embedder.tensor(d)).data));
  const detect = models.detector
    ? await Promise.all(decoded.map(async (d) => (await imageTensor(d, models.detector!.runner.manifest.preprocess)).data))
    : [];
  return { embed, detect };
}

export async function measureFloor(models: FloorModels, tensors: { embed: Float32Array[]; detect: Float32Array[] }, work: FloorWork): Promise<FloorResult> {
  const batch = models.embedder.manifest.maxBatch;
  const pick = (pool: Float32Array[], from: number, n: number) => Array.from({ length: n }, (_, i) => pool[(from + i) % pool.length]);
  // Warm-up: first runs allocate ORT's arenas.
  await models.embedder.embedTensors(pick(tensors.embed, 0, batch));
  if (models.detector && work.detections > 0) await models.detector.runner.run(tensors.detect[0]);

  let start = performance.now();
  for (let done = 0; done < work.embeddings; done += batch) {
    await models.embedder.embedTensors(pick(tensors.embed, done, Math.min(batch, work.embeddings - done)));
  }
  const embedMs = performance.now() - start;

  start = performance.now();
  if (models.detector) for (let i = 0; i < work.detections; i++) await models.detector.runner.run(tensors.detect[i % tensors.detect.length]);
  const detectMs = performance.now() - start;
  return { embedMs, detectMs, totalMs: embedMs + detectMs, embedBatch: batch };
}

/** The process-wide runner the analyzer uses for this manifest (ModelRunner.open shares one per model file). */
export const sharedRunner = (manifest: ModelManifest, modelDir: string) => ModelRunner.open(manifest, path.join(modelDir, manifest.file));
