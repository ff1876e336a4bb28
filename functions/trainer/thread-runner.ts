// Main-thread side of the trainer's worker thread.

import { Worker } from 'node:worker_threads';
import type { AwsConfig } from '../adapters/aws/clients.js';
import type { RetrainRequest, TrainerRunner } from './runner.js';

export function threadRunner(config: Omit<AwsConfig, 'clock'>): TrainerRunner {
  const worker = new Worker(new URL('./thread-entry.mjs', import.meta.url), { workerData: config });
  worker.unref();
  let nextId = 0;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  worker.on('message', (m: { id: number; result?: unknown; error?: string }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error !== undefined) p?.reject(new Error(m.error));
    else p?.resolve(m.result);
  });
  worker.on('error', (err) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  });
  const call = <T>(kind: 'retrain' | 'similar', args: unknown[]) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.ref(); // keep the process alive while work is in flight
      worker.postMessage({ id, kind, args });
    }).finally(() => {
      if (pending.size === 0) worker.unref();
    });
  return {
    retrain: (request: RetrainRequest) => call('retrain', [request]),
    similar: (projectId, embedder, sampleId, k) => call('similar', [projectId, embedder, sampleId, k]),
    close: async () => {
      await worker.terminate();
    },
  };
}
