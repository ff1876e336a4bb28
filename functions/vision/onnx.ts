// One onnxruntime session per model file per process, created on first use and reused. Runs on one session are
// queued, and everything queued while a run is in progress goes into the next run as one batch (up to the
// manifest's maxBatch): concurrent ingests get batched inference without coordinating. Sessions live on the
// inference thread (inference-thread.ts), so a run never blocks the event loop.

import type { InferenceSession } from 'onnxruntime-node';
import { WinnowError } from '../domain/errors.js';
import { openInferenceSession, type InferenceSessionHandle } from './inference-thread.js';
import type { ModelManifest } from './manifest.js';

/**
 * Idle ORT worker threads spin by default; with sharp and a second model sharing two cores, spinning starves
 * them (measured: YOLOX + MobileNet run concurrently in 25 ms without spinning, 37 ms with).
 */
const SESSION_OPTIONS: InferenceSession.SessionOptions = {
  graphOptimizationLevel: 'all',
  extra: { session: { intra_op: { allow_spinning: '0' } } },
};

const sessions = new Map<string, Promise<InferenceSessionHandle>>();

/** The shared session for a model file; a failed load is not cached, so a fixed file can be retried. */
export function getSession(modelPath: string): Promise<InferenceSessionHandle> {
  let session = sessions.get(modelPath);
  if (!session) {
    session = openInferenceSession(modelPath, SESSION_OPTIONS).catch((err: unknown) => {
      sessions.delete(modelPath);
      throw new WinnowError('unavailable', `cannot load model ${modelPath}: ${(err as Error).message}`);
    });
    sessions.set(modelPath, session);
  }
  return session;
}

/** One item's slice of every output: data plus its shape without the batch dimension. */
export type ItemOutputs = Record<string, { data: Float32Array; dims: number[] }>;

interface Pending {
  input: Float32Array;
  resolve: (out: ItemOutputs) => void;
  reject: (err: unknown) => void;
}

const runners = new Map<string, Promise<ModelRunner>>();

export class ModelRunner {
  private readonly queue: Pending[] = [];
  private running = false;
  private scheduled = false;
  /** Runs made, items processed and ms spent inside onnxruntime's run (to see batching, and for benchmarks). */
  readonly stats = { runs: 0, items: 0, busyMs: 0 };
  /** Floats in one input item (3 x side x side). */
  readonly itemSize: number;

  private constructor(
    readonly manifest: ModelManifest,
    private readonly session: InferenceSessionHandle,
  ) {
    const [, c, h, w] = manifest.input.shape;
    this.itemSize = c * h * w;
  }

  /** The shared runner for this manifest and file, so every caller's items can share batches. */
  static open(manifest: ModelManifest, modelPath: string): Promise<ModelRunner> {
    const key = `${manifest.name}|${modelPath}`;
    let runner = runners.get(key);
    if (!runner) {
      runner = getSession(modelPath).then((session) => new ModelRunner(manifest, session));
      runner.catch(() => runners.delete(key));
      runners.set(key, runner);
    }
    return runner;
  }

  /** Runs one input item; items queued together share a batch. */
  run(input: Float32Array): Promise<ItemOutputs> {
    if (input.length !== this.itemSize) {
      return Promise.reject(new WinnowError('internal', `${this.manifest.name} expects ${this.itemSize} floats per image, got ${input.length}`));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      // Start after the current task, so that items queued in the same tick (runMany) share the first batch.
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => {
          this.scheduled = false;
          void this.drain();
        });
      }
    });
  }

  runMany(inputs: Float32Array[]): Promise<ItemOutputs[]> {
    return Promise.all(inputs.map((input) => this.run(input)));
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.manifest.maxBatch);
        try {
          const outputs = await this.runBatch(batch.map((p) => p.input));
          batch.forEach((p, i) => p.resolve(outputs[i]));
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async runBatch(inputs: Float32Array[]): Promise<ItemOutputs[]> {
    const n = inputs.length;
    const [, c, h, w] = this.manifest.input.shape;
    const data = n === 1 ? inputs[0] : new Float32Array(n * this.itemSize);
    if (n > 1) inputs.forEach((input, i) => data.set(input, i * this.itemSize));
    const names = [...new Set(this.manifest.outputs.map((o) => o.name))];
    const { outputs: results, ms } = await this.session.run(this.manifest.input.name, data, [n, c, h, w], names);
    this.stats.busyMs += ms;
    this.stats.runs++;
    this.stats.items += n;
    const items: ItemOutputs[] = Array.from({ length: n }, () => ({}));
    for (const name of names) {
      const tensor = results[name];
      const all = tensor.data;
      const dims = tensor.dims.slice(1);
      const per = all.length / n;
      for (let i = 0; i < n; i++) items[i][name] = { data: all.subarray(i * per, (i + 1) * per), dims };
    }
    return items;
  }
}
