// Which store operations reach the emulators per request under load, and how long each takes from the caller's
// side: wraps the stack's store objects (under the API's read caches) for the measured phase. Work done in other
// threads with their own clients (the trainer's) is not seen here.

import type { Stores } from '../../../functions/domain/ports.js';
import { StageTimes, timeMethods } from './stage-times.js';

const PORTS = ['projects', 'samples', 'annotations', 'labelers', 'rankings', 'blobs'] as const;

export interface StoreCall {
  call: string;
  calls: number;
  meanMs: number;
  p99Ms: number;
}

export function recordStoreCalls(stores: Stores) {
  const times = new StageTimes();
  times.paused = true;
  let batchItems = 0;
  let inFlight = 0;
  const durations = new Map<string, number[]>();
  for (const port of PORTS) {
    timeMethods(stores[port], port, (stage, ms) => {
      inFlight--;
      times.record(stage, ms);
      if (times.paused) return;
      let list = durations.get(stage);
      if (!list) durations.set(stage, (list = []));
      list.push(ms);
    });
    countCalls(stores[port], () => inFlight++);
  }
  // Items per batch read: serving reads ranked samples a page at a time.
  const getSamples = stores.samples.getSamples.bind(stores.samples);
  stores.samples.getSamples = (projectId, ids) => {
    if (!times.paused) batchItems += ids.length;
    return getSamples(projectId, ids);
  };
  return {
    /** Resolves once no store call has been in flight for `quietMs` (requests cut off by the load generator finish). */
    settled: async (quietMs = 300) => {
      for (let quietSince = Date.now(); Date.now() - quietSince < quietMs; ) {
        await new Promise((r) => setTimeout(r, 20));
        if (inFlight > 0) quietSince = Date.now();
      }
    },
    start: () => {
      times.reset();
      durations.clear();
      batchItems = 0;
      times.paused = false;
    },
    stop: () => {
      times.paused = true;
      const p99 = (call: string) => {
        const sorted = [...(durations.get(call) ?? [0])].sort((a, b) => a - b);
        return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] * 10) / 10;
      };
      const calls: StoreCall[] = Object.entries(times.snapshot()).map(([call, t]) => ({
        call,
        calls: t.calls,
        meanMs: Math.round((t.ms / t.calls) * 10) / 10,
        p99Ms: p99(call),
      }));
      return { calls: calls.sort((a, b) => b.calls - a.calls), batchItems };
    },
  };
}

/** Calls `onCall` as each method of `target` starts (wrapping the timing wrappers timeMethods installed). */
function countCalls(target: object, onCall: () => void): void {
  const obj = target as Record<string, unknown>;
  for (const name of Object.keys(obj)) {
    const fn = obj[name];
    if (typeof fn !== 'function') continue;
    obj[name] = function (this: unknown, ...args: unknown[]) {
      onCall();
      return (fn as (...a: unknown[]) => unknown).apply(this, args);
    };
  }
}
