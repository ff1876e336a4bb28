// The local stack's ingest handler on a worker thread of its own (ingest-thread-child.ts), with its own S3 and
// DynamoDB clients: the SDK's work (serialising, signing, parsing) and the sockets of every storage call of ingest
// leave the thread that serves the API and the emulators' upload events, and use the other core. Measured with
// `npm run bench:ingest`: with ingest on the main thread, that thread was busy ~90% of an embed-only run, ~19 ms per
// image, a third of it the SDK and a fifth sockets; the analyzer alone needs ~7 ms per image of it.
//
// The analyzer stays here, on the main thread (its ONNX sessions already run on inference threads of their own,
// sharp on libuv's): the thread sends each image's bytes over and gets the analysis back. So the stack keeps one
// analyzer whatever calls it (ingest, the model lab, the bench), and registered models are loaded once.
// The queue in front (ingest-queue.ts), the reconcile after a start and the trainer's triggers stay here too; the
// thread only runs `handleRecords` and `giveUp` of the same handler (functions/ingest/handler.ts). A thread that
// died is started again on the next call; the records it was ingesting come back as errors, which the queue retries
// (ingest is idempotent). The thread dies with the process.

import { Worker } from 'node:worker_threads';
import type { AwsConfig } from '../adapters/aws/clients.js';
import { WinnowError, type ErrorCode } from '../domain/errors.js';
import type { ImageAnalysis, ImageAnalyzer, Log, LogFields } from '../domain/ports.js';
import type { RecordResult, UploadEvent } from '../ingest/handler.js';
import { PendingCalls } from './pending-calls.js';

const ENTRY = new URL('./ingest-thread-entry.mjs', import.meta.url);

export interface IngestThreadOptions {
  analyzer: ImageAnalyzer;
  /** The analyzer's default embedder (rows go under its name). */
  embedder: string | undefined;
  log: Log;
  /** A ready image's embeddings were stored (the trainer's cue). */
  onEmbedded: (projectId: string) => void;
  /**
   * A module (URL) the thread loads after building its stores: its default export gets them and returns functions
   * that `probe` calls by name (the ingest bench counts the thread's storage requests this way).
   */
  instrument?: string;
}

/** What the thread is started with (structured-cloneable). */
export interface IngestThreadData {
  config: Omit<AwsConfig, 'clock'>;
  embedder: string | undefined;
  instrument?: string;
}

export type AnalyzeOptions = Parameters<ImageAnalyzer['analyze']>[1];
export type SerializedError = { message: string; code?: ErrorCode; details?: Record<string, unknown> };

/** Main thread -> ingest thread. */
export type ToThread =
  | { kind: 'records'; id: number; records: UploadEvent[] }
  | { kind: 'giveUp'; id: number; record: UploadEvent; error: string }
  | { kind: 'probe'; id: number; name: string; args: unknown[] }
  | { kind: 'settle'; id: number }
  | { kind: 'close'; id: number }
  | { kind: 'analyzed'; id: number; analysis?: ImageAnalysis; error?: SerializedError };

/** Ingest thread -> main thread. */
export type FromThread =
  | { kind: 'reply'; id: number; result?: unknown; error?: string }
  | { kind: 'analyze'; id: number; bytes: Uint8Array; opts: AnalyzeOptions }
  | { kind: 'embedded'; projectId: string }
  | { kind: 'log'; message: string; fields?: LogFields };

/** A call to the thread, without its id. */
type Request = Extract<ToThread, { kind: 'records' | 'giveUp' | 'probe' | 'settle' | 'close' }> extends infer M ? (M extends { id: number } ? Omit<M, 'id'> : never) : never;

export const serializeError = (err: unknown): SerializedError =>
  err instanceof WinnowError
    ? { message: err.message, code: err.code, ...(err.details ? { details: err.details } : {}) }
    : { message: (err as Error)?.message ?? String(err) };

export const deserializeError = (e: SerializedError): Error => (e.code ? new WinnowError(e.code, e.message, e.details) : new Error(e.message));

export interface IngestThread {
  /** The ingest handler's queue-facing half, run on the thread. */
  handleRecords(records: UploadEvent[]): Promise<RecordResult[]>;
  giveUp(record: UploadEvent, error: string): Promise<void>;
  /** Resolves once the counts of the thread's finished writes are applied (they return before: see the child). */
  settle(): Promise<void>;
  /** Calls a function of the `instrument` module on the thread. */
  probe<T>(name: string, ...args: unknown[]): Promise<T>;
  /** Share of the time since it started (or since `since`) that the thread's event loop was busy. */
  utilization(since?: ReturnType<Worker['performance']['eventLoopUtilization']>): ReturnType<Worker['performance']['eventLoopUtilization']> | undefined;
  /** Waits for the thread's counted writes to be applied, closes its clients, ends it. Call after the queue drained. */
  close(): Promise<void>;
}

export function startIngestThread(config: Omit<AwsConfig, 'clock'>, opts: IngestThreadOptions): IngestThread {
  let worker: Worker | undefined;
  let closing = false;
  const pending = new PendingCalls();

  const start = (): Worker => {
    const data: IngestThreadData = { config, embedder: opts.embedder, ...(opts.instrument ? { instrument: opts.instrument } : {}) };
    // execArgv cleared: the entry registers the TypeScript loader itself (the parent may run under vitest).
    // Named, so that its CPU can be told apart from the other threads' (/proc/<pid>/task/<tid>/comm: the bench).
    const w = new Worker(ENTRY, { workerData: data, execArgv: [], name: 'winnow-ingest' });
    w.unref();
    w.on('message', (m: FromThread) => {
      if (m.kind === 'reply') {
        pending.answer(m.id, m.error === undefined ? undefined : new Error(m.error), m.result);
        if (pending.size === 0) w.unref();
      } else if (m.kind === 'analyze') {
        opts.analyzer.analyze(m.bytes, m.opts).then(
          (analysis) => w.postMessage({ kind: 'analyzed', id: m.id, analysis } satisfies ToThread),
          (err: unknown) => w.postMessage({ kind: 'analyzed', id: m.id, error: serializeError(err) } satisfies ToThread),
        );
      } else if (m.kind === 'embedded') {
        opts.onEmbedded(m.projectId);
      } else if (m.kind === 'log') {
        opts.log(m.message, m.fields);
      }
    });
    w.on('error', (err) => {
      opts.log(`ingest thread failed: ${err.message}`);
      if (worker === w) worker = undefined;
      pending.failAll(new Error(`the ingest thread failed: ${err.message}`));
    });
    w.on('exit', (code) => {
      if (worker === w) worker = undefined;
      if (pending.size) pending.failAll(new Error(`the ingest thread stopped (exit code ${code})`));
    });
    return w;
  };

  const call = <T>(message: Request): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (closing && message.kind !== 'close') return reject(new Error('the ingest thread is closed'));
      const w = (worker ??= start());
      const id = pending.add(resolve, reject);
      w.ref(); // keep the process alive while work is in flight
      w.postMessage({ ...message, id });
    });

  return {
    async handleRecords(records) {
      try {
        return await call<RecordResult[]>({ kind: 'records', records });
      } catch (err) {
        // The thread died under them: errors, so that the queue tries them again (on a new thread).
        return records.map((r) => ({ key: r.key, error: (err as Error).message }));
      }
    },
    async giveUp(record, error) {
      await call<void>({ kind: 'giveUp', record, error }).catch((err: unknown) =>
        opts.log(`ingest: could not mark ${JSON.stringify(record.key)} failed: ${(err as Error).message}`),
      );
    },
    // No thread (none started yet, or it died): nothing of it is left to apply.
    settle: () => (worker ? call<void>({ kind: 'settle' }).catch(() => undefined) : Promise.resolve()),
    probe: <T>(name: string, ...args: unknown[]) => call<T>({ kind: 'probe', name, args }),
    utilization: (since) => worker?.performance.eventLoopUtilization(since as never),
    async close() {
      if (closing) return;
      closing = true;
      const w = worker;
      if (!w) return;
      await call<void>({ kind: 'close' }).catch((err: unknown) => opts.log(`ingest thread: close: ${(err as Error).message}`));
      await w.terminate();
      worker = undefined;
    },
  };
}
