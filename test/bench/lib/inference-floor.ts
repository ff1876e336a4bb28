// The floor for the ingest bench: pure inference on tensors made beforehand, for the same amount of work the pipeline
// did (whole-image embeddings, crop embeddings, detector runs). No decoding, no resizing, no storage: what the models
// alone cost on this machine. Measured two ways, and the faster one is the floor, so that a thread setting that
// helps the pipeline can never make the floor look slower than the machine can go:
// - production: the analyzer's own sessions and threads (one compute thread per session, each model on its own
//   inference thread, so the detector and the embedder run at the same time, as they do during ingest);
// - default threads: a second session per model with onnxruntime's default (one compute thread per core), the models
//   one after the other (how the analyzer ran them before).
// Embeddings run in the batch size that is fastest per item (each power of two up to the manifest's maxBatch is
// tried), the detector one image at a time (its only batch size). Inputs reach the inference thread the way the
// analyzer sends them (moved, not copied). Each run is timed alone and a model's time is runs x median time per
// item, so that other load on the machine moves it as little as possible.

import path from 'node:path';
import { decodeImage } from '../../../functions/vision/decode.js';
import type { Embedder } from '../../../functions/vision/embedder.js';
import type { ModelManifest } from '../../../functions/vision/manifest.js';
import { openInferenceSession } from '../../../functions/vision/inference-thread.js';
import { ModelRunner } from '../../../functions/vision/onnx.js';
import { imageTensor } from '../../../functions/vision/preprocess.js';

export interface FloorWork {
  embeddings: number;
  detections: number;
}

export interface FloorResult {
  /** Median time per item x items, for the embedder and the detector; totalMs is their sum, or the larger of the two
   * when the models run on separate inference threads (they then run at the same time, as in production). */
  embedMs: number;
  detectMs: number;
  totalMs: number;
  /** Plain sum of every run's time (includes whatever else the machine was doing meanwhile). */
  rawMs: number;
  embedBatch: number;
  /** Whether the two models ran at the same time (each on its own inference thread). */
  parallel?: boolean;
}

export interface FloorModels {
  embedder: Embedder;
  /** The embedder's shared runner, to know which inference thread it is on. */
  embedRunner: ModelRunner;
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

/** One model as the floor drives it: run these inputs as one batch. */
interface FloorModel {
  thread: number;
  maxBatch: number;
  run(inputs: Float32Array[]): Promise<void>;
}

export interface FloorLayout extends FloorResult {
  label: string;
}

/** Both layouts; the result is the faster one, with both kept for the report. */
export async function measureFloor(
  models: FloorModels,
  tensors: { embed: Float32Array[]; detect: Float32Array[] },
  work: FloorWork,
  modelDir: string,
): Promise<FloorResult & { layouts: FloorLayout[] }> {
  const production = await measureLayout(
    {
      thread: models.embedRunner.thread,
      maxBatch: models.embedder.manifest.maxBatch,
      run: async (inputs) => void (await models.embedder.embedTensors(inputs, { transfer: true })),
    },
    models.detector && {
      thread: models.detector.runner.thread,
      maxBatch: 1,
      run: async ([input]) => void (await models.detector!.runner.run(input, { transfer: true })),
    },
    tensors,
    work,
  );
  const defaults = await measureLayout(
    await defaultThreadsModel(models.embedder.manifest, modelDir),
    models.detector && (await defaultThreadsModel(models.detector.runner.manifest, modelDir)),
    tensors,
    work,
    { serial: true },
  );
  const layouts: FloorLayout[] = [
    { label: 'production sessions, side by side', ...production },
    { label: 'default-thread sessions, in turn', ...defaults },
  ];
  const best = production.totalMs <= defaults.totalMs ? production : defaults;
  return { ...best, layouts };
}

/** A separate session with onnxruntime's default thread count (one per core), batching by concatenation. */
async function defaultThreadsModel(manifest: ModelManifest, modelDir: string): Promise<FloorModel> {
  const session = await openInferenceSession(path.join(modelDir, manifest.file), {
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const [, c, h, w] = manifest.input.shape as number[];
  const names = [...new Set(manifest.outputs.map((o) => o.name))];
  return {
    thread: session.thread,
    maxBatch: manifest.maxBatch,
    run: async (inputs) => {
      const data = new Float32Array(inputs.length * c * h * w);
      inputs.forEach((input, i) => data.set(input, i * c * h * w));
      await session.run(manifest.input.name, data, [inputs.length, c, h, w], names, true);
    },
  };
}

async function measureLayout(
  embed: FloorModel,
  detect: FloorModel | undefined,
  tensors: { embed: Float32Array[]; detect: Float32Array[] },
  work: FloorWork,
  opts: { serial?: boolean } = {},
): Promise<FloorResult> {
  const pick = (pool: Float32Array[], from: number, n: number) => Array.from({ length: n }, (_, i) => pool[(from + i) % pool.length]);
  // The analyzer hands its tensors over; copies made before the clock starts stand in for fresh tensors.
  const fresh = (pool: Float32Array[], from: number, n: number) => pick(pool, from, n).map((t) => t.slice());
  // Warm-up: first runs allocate ORT's arenas.
  await embed.run(fresh(tensors.embed, 0, embed.maxBatch));
  if (detect && work.detections > 0) await detect.run(fresh(tensors.detect, 0, 1));
  const batch = await fastestBatch(embed, tensors.embed);

  const embedRuns: number[] = [];
  const batchSizes: number[] = [];
  const embedAll = async () => {
    for (let done = 0; done < work.embeddings; done += batch) {
      const n = Math.min(batch, work.embeddings - done);
      const inputs = fresh(tensors.embed, done, n);
      const start = performance.now();
      await embed.run(inputs);
      embedRuns.push((performance.now() - start) / n);
      batchSizes.push(n);
    }
  };
  const detectRuns: number[] = [];
  const detectAll = async () => {
    for (let i = 0; detect && i < work.detections; i++) {
      const inputs = fresh(tensors.detect, i, 1);
      const start = performance.now();
      await detect.run(inputs);
      detectRuns.push(performance.now() - start);
    }
  };
  // Models on one inference thread run one after the other; on separate threads, at the same time.
  const parallel = !opts.serial && detect !== undefined && detect.thread !== embed.thread;
  if (parallel) await Promise.all([embedAll(), detectAll()]);
  else {
    await embedAll();
    await detectAll();
  }
  const embedMs = embedRuns.length ? median(embedRuns) * work.embeddings : 0;
  const detectMs = detectRuns.length ? median(detectRuns) * work.detections : 0;
  const rawMs = embedRuns.reduce((t, ms, i) => t + ms * batchSizes[i], 0) + detectRuns.reduce((t, ms) => t + ms, 0);
  return { embedMs, detectMs, totalMs: parallel ? Math.max(embedMs, detectMs) : embedMs + detectMs, rawMs, embedBatch: batch, parallel };
}

/** The power-of-two batch size (up to maxBatch) with the lowest median time per item over a few runs. */
async function fastestBatch(embed: FloorModel, pool: Float32Array[]): Promise<number> {
  let best = { batch: 1, msPerItem: Infinity };
  for (let batch = 1; batch <= embed.maxBatch; batch *= 2) {
    const times: number[] = [];
    for (let run = 0; run < Math.max(3, 32 / batch); run++) {
      const inputs = Array.from({ length: batch }, (_, i) => pool[(run * batch + i) % pool.length].slice());
      const start = performance.now();
      await embed.run(inputs);
      times.push((performance.now() - start) / batch);
    }
    const msPerItem = median(times);
    if (msPerItem < best.msPerItem) best = { batch, msPerItem };
  }
  return best.batch;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The process-wide runner the analyzer uses for this manifest (ModelRunner.open shares one per model file). */
export const sharedRunner = (manifest: ModelManifest, modelDir: string) => ModelRunner.open(manifest, path.join(modelDir, manifest.file));
