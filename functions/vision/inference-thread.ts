// ONNX inference on worker threads, one per model file. onnxruntime-node's `session.run` is synchronous under its
// promise (microsoft/onnxruntime#19611): on the main thread, every run stalls the event loop for its whole
// duration, and with it S3/DynamoDB calls, sharp callbacks and (locally) the emulators and the API. Measured with
// `npm run bench:ingest`, the main thread was the bottleneck; on these threads inference overlaps with all of that.
// Each session computes on its own thread only (see onnx.ts), so the detector and the embedder each keep one core
// busy instead of both sharing two in lock-step.
//
// The worker is plain JavaScript evaluated from a string, so it runs the same under tsx, vitest and the Lambda's
// esbuild bundle (no second file to ship or compile). It is unref'd while idle, so it never keeps a process alive.

import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Data and shape (batch dimension included) of one output tensor. */
export interface OutputTensor {
  data: Float32Array;
  dims: number[];
}

export interface InferenceResult {
  outputs: Record<string, OutputTensor>;
  /** Time spent inside onnxruntime's run, on the inference thread. */
  ms: number;
}

export interface InferenceSessionHandle {
  /** Which inference thread runs this session (sessions on different threads run at the same time). */
  readonly thread: number;
  /** With `transfer`, `data`'s buffer moves to the inference thread (detached here) instead of being copied. */
  run(inputName: string, data: Float32Array, dims: number[], outputNames: string[], transfer?: boolean): Promise<InferenceResult>;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
const sessions = new Map();
const reply = (id, body, transfer) => parentPort.postMessage({ id, ...body }, transfer);
parentPort.on('message', async (msg) => {
  try {
    if (msg.type === 'open') {
      sessions.set(msg.session, await ort.InferenceSession.create(msg.modelPath, msg.options));
      reply(msg.id, {});
    } else {
      const session = sessions.get(msg.session);
      const feeds = { [msg.inputName]: new ort.Tensor('float32', msg.data, msg.dims) };
      const started = performance.now();
      const results = await session.run(feeds, msg.outputNames);
      const ms = performance.now() - started;
      const outputs = {};
      const transfer = [];
      for (const name of msg.outputNames) {
        const t = results[name];
        // A copy when the tensor is a view, so each transferred buffer holds exactly one output.
        const data = t.data.byteOffset === 0 && t.data.byteLength === t.data.buffer.byteLength ? t.data : new Float32Array(t.data);
        outputs[name] = { data, dims: t.dims.map(Number) };
        transfer.push(data.buffer);
      }
      reply(msg.id, { outputs, ms }, transfer);
    }
  } catch (err) {
    reply(msg.id, { error: err instanceof Error ? err.message : String(err) });
  }
});
`;

type Reply = { id: number; error?: string; outputs?: Record<string, OutputTensor>; ms?: number };

let threads = 0;

class InferenceThread {
  readonly id = ++threads;
  private worker?: Worker;
  /** Bumped when a thread dies: sessions opened on an earlier thread are reopened on first use. */
  private generation = 0;
  private nextId = 1;
  private nextSession = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();

  private start(): Worker {
    const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ortPath } });
    worker.on('message', (reply: Reply) => {
      const call = this.pending.get(reply.id);
      if (!call) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      call.resolve(reply);
    });
    const fail = (err: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.generation++; // the next call starts a fresh thread (its sessions are reopened by the caller)
      for (const call of this.pending.values()) call.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`inference thread exited with code ${code}`)));
    worker.unref();
    return worker;
  }

  call(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<Reply> {
    const worker = (this.worker ??= this.start());
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ ...message, id }, transfer);
    }).then((reply) => {
      if (reply.error !== undefined) throw new Error(reply.error);
      return reply;
    });
  }

  async open(modelPath: string, options: object): Promise<InferenceSessionHandle> {
    const session = this.nextSession++;
    let opened = this.generation;
    await this.call({ type: 'open', session, modelPath, options });
    return {
      thread: this.id,
      run: async (inputName, data, dims, outputNames, transfer = false) => {
        if (opened !== this.generation) {
          opened = this.generation;
          await this.call({ type: 'open', session, modelPath, options });
        }
        // Structured clone copies a view's whole buffer: send exactly the input.
        const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
        const input = whole ? data : data.slice();
        const moved = (transfer || !whole) && input.buffer instanceof ArrayBuffer ? [input.buffer] : [];
        const reply = await this.call({ type: 'run', session, inputName, data: input, dims, outputNames }, moved);
        return { outputs: reply.outputs!, ms: reply.ms! };
      },
    };
  }
}

const threadsByModel = new Map<string, InferenceThread>();

/**
 * Loads a model on its own inference thread; rejects with onnxruntime's message (e.g. "protobuf parsing failed").
 * Runs of one model follow each other; different models (the detector and the embedder) run at the same time.
 */
export function openInferenceSession(modelPath: string, options: object): Promise<InferenceSessionHandle> {
  let thread = threadsByModel.get(modelPath);
  if (!thread) threadsByModel.set(modelPath, (thread = new InferenceThread()));
  return thread.open(modelPath, options);
}
