// The floor for the ingest bench: the same ONNX sessions the analyzer uses, run on tensors made beforehand, for
// the same amount of work the pipeline did (whole-image embeddings, crop embeddings, detector runs). No decoding,
// no resizing, no storage: what the models alone cost on this machine. Embeddings run in full batches (the
// manifest's maxBatch), the detector one image at a time (its only batch size); the two run one after the other.
// Each run is timed alone and the floor is runs x median time per item, so that other load on the machine moves
// it as little as possible.

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
  /** Median time per item x items, for the embedder and the detector; totalMs is their sum. */
  embedMs: number;
  detectMs: number;
  totalMs: number;
  /** Plain sum of every run's time (includes whatever else the machine was doing meanwhile). */
  rawMs: number;
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

  // Every run is timed on its own and the floor is (runs x median run time): a burst of load from elsewhere on
  // the machine then moves the floor much less than a sum of the raw times would.
  const embedRuns: number[] = [];
  const batchSizes: number[] = [];
  for (let done = 0; done < work.embeddings; done += batch) {
    const n = Math.min(batch, work.embeddings - done);
    const start = performance.now();
    await models.embedder.embedTensors(pick(tensors.embed, done, n));
    embedRuns.push((performance.now() - start) / n);
    batchSizes.push(n);
  }
  const embedMs = median(embedRuns) * work.embeddings;

  const detectRuns: number[] = [];
  if (models.detector) {
    for (let i = 0; i < work.detections; i++) {
      const start = performance.now();
      await models.detector.runner.run(tensors.detect[i % tensors.detect.length]);
      detectRuns.push(performance.now() - start);
    }
  }
  const detectMs = detectRuns.length ? median(detectRuns) * work.detections : 0;
  const rawMs = embedRuns.reduce((t, ms, i) => t + ms * batchSizes[i], 0) + detectRuns.reduce((t, ms) => t + ms, 0);
  return { embedMs, detectMs, totalMs: embedMs + detectMs, rawMs, embedBatch: batch };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The process-wide runner the analyzer uses for this manifest (ModelRunner.open shares one per model file). */
export const sharedRunner = (manifest: ModelManifest, modelDir: string) => ModelRunner.open(manifest, path.join(modelDir, manifest.file));
