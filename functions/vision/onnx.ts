// One onnxruntime session per model file per process, created on first use and reused. Runs on one session are
// queued, and everything queued while a run is in progress goes into the next run as one batch (up to the
// manifest's maxBatch): concurrent ingests get batched inference without coordinating. Sessions live on inference
// threads (inference-thread.ts, one per model), so a run never blocks the event loop.

import type { InferenceSession } from 'onnxruntime-node';
import { WinnowError } from '../domain/errors.js';
import { openInferenceSession, type InferenceSessionHandle } from './inference-thread.js';
import type { ModelManifest } from './manifest.js';

/**
 * One compute thread per session (intra_op_num_threads 1; onnxruntime's default is one per core). Ingest runs the
 * detector and the embedder on their own inference threads next to sharp, the S3/DynamoDB clients and (locally) the
 * emulators: a session that splits each operator over two threads stalls whenever either thread is preempted, and
 * pays for the splitting. Measured on this 2-vCPU machine, CPU time per run with 1 thread vs 2: YOLOX-Nano 24.8 vs
 * 31.7 ms, MobileNetV2 batch 4 6.9 vs 8.9 ms per image; the ingest bench used about 10 % less CPU per image. A
 * Lambda below 1769 MB has less than one vCPU, where splitting only adds stalls. Spinning stays off so an idle
 * session never takes CPU from the rest.
 */
const SESSION_OPTIONS: InferenceSession.SessionOptions = {
  graphOptimizationLevel: 'all',
  intraOpNumThreads: 1,
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
  /** The caller hands the buffer over: it may be moved to the inference thread instead of copied. */
  transfer: boolean;
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
  /** The inference thread this model runs on (runners on different threads run at the same time). */
  readonly thread: number;

  private constructor(
    readonly manifest: ModelManifest,
    private readonly session: InferenceSessionHandle,
  ) {
    const [, c, h, w] = manifest.input.shape;
    this.itemSize = c * h * w;
    this.thread = session.thread;
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

  /**
   * Runs one input item; items queued together share a batch. With `transfer`, the caller hands the input over and
   * must not use it afterwards (its buffer may be detached): a 416x416 tensor then moves to the inference thread
   * instead of being copied, which saves the copy and the garbage collection of the 2 MB it would leave behind.
   */
  run(input: Float32Array, opts: { transfer?: boolean } = {}): Promise<ItemOutputs> {
    if (input.length !== this.itemSize) {
      return Promise.reject(new WinnowError('internal', `${this.manifest.name} expects ${this.itemSize} floats per image, got ${input.length}`));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ input, transfer: opts.transfer ?? false, resolve, reject });
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

  runMany(inputs: Float32Array[], opts: { transfer?: boolean } = {}): Promise<ItemOutputs[]> {
    return Promise.all(inputs.map((input) => this.run(input, opts)));
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.manifest.maxBatch);
        try {
          const outputs = await this.runBatch(batch);
          batch.forEach((p, i) => p.resolve(outputs[i]));
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async runBatch(batch: Pending[]): Promise<ItemOutputs[]> {
    const n = batch.length;
    const [, c, h, w] = this.manifest.input.shape;
    // A batch of several is copied into a fresh buffer, which is then ours to hand over.
    const data = n === 1 ? batch[0].input : new Float32Array(n * this.itemSize);
    if (n > 1) batch.forEach((p, i) => data.set(p.input, i * this.itemSize));
    const transfer = n > 1 || batch[0].transfer;
    const names = [...new Set(this.manifest.outputs.map((o) => o.name))];
    const { outputs: results, ms } = await this.session.run(this.manifest.input.name, data, [n, c, h, w], names, transfer);
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
