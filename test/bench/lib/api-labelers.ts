// Simulated labelers for the API benchmark: one autocannon instance with one keep-alive connection per labeler
// (its own `x-winnow-user`), looping GET next?count=1 -> POST the label for the sample just leased. Every lease
// the server hands out is recorded with its window, so the run can be checked for double leases afterwards.
//
// One run has a warm-up and a measured phase, with the same labelers, connections and process: latency is taken only
// from requests sent after the warm-up. In a fresh load generator's first second (its JIT, 50 autocannon instances
// set up on the event loop that also times the responses) came 40-50% of a run's answers over 20 ms, waiting in this
// process and not in the server (per-request timestamps joined with the server's, `npm run bench:api`); labelers at
// work have no such first second.

import { fork } from 'node:child_process';
import { SERVING_GC_FLAGS } from '../../../functions/local/node-flags.js';
import { startCannon, type CannonResult } from './autocannon.js';

export type RequestKind = 'next' | 'annotate';

export interface LeaseRecord {
  labeler: string;
  sampleId: string;
  version: number;
  /** Lease expiry the server stored (epoch ms, same clock as this process). */
  until: number;
  /** When the next-sample response arrived. */
  servedAt: number;
  /** When the annotate response arrived, and its status (absent if the run ended first). */
  annotatedAt?: number;
  annotateStatus?: number;
}

export interface RequestRecord {
  kind: RequestKind;
  status: number;
  ms: number;
}

export interface LabelerRun {
  /** Requests sent in the measured phase (after the warm-up). */
  requests: RequestRecord[];
  /** Requests sent during the warm-up: counted for errors and status codes, not for latency. */
  warmupRequests: RequestRecord[];
  leases: LeaseRecord[];
  /** Samples served to a labeler with someone else's lease on them (must stay empty). */
  foreignLeases: string[];
  /** next-sample answers without a sample (everything leased or done). */
  emptyNext: number;
  /** First error bodies per "kind status code", to explain any non-2xx. */
  failures: Map<string, { count: number; example: string }>;
  /** Socket errors and timeouts as autocannon counts them. */
  errors: number;
  timeouts: number;
  startedAt: number;
  /** When the measured phase began (epoch ms): the warm-up's end. */
  measuredFrom: number;
  endedAt: number;
}

export interface LabelerOptions {
  url: string;
  projectId: string;
  labelers: number;
  /** Seconds measured, after the warm-up. */
  seconds: number;
  /** Seconds of labeling first, not measured (at least 1: every labeler starts within its first second). */
  warmupSeconds: number;
  classes: number;
  /**
   * Labels per second each labeler aims for (a person reading the image between key presses); 0 = no pause at
   * all, which measures saturation (latency then follows from throughput: labelers / (labels/s)).
   */
  labelRate: number;
}

interface Context {
  lease?: LeaseRecord;
}

/**
 * runLabelers in a child process (api-labelers-child.ts); `cpuMs` is the load generator's own CPU time in the
 * measured phase. `onMeasuring` is called when the measured phase begins.
 */
export function runLabelersApart(opts: LabelerOptions, onMeasuring: () => void = () => undefined): Promise<LabelerRun & { cpuMs: number }> {
  const child = fork(new URL('./api-labelers-child.ts', import.meta.url), [JSON.stringify(opts)], {
    // The server's young-generation cap too: one process stands for 50 labelers' machines, and a long collection in
    // it would hold up all their answers at once.
    execArgv: [...SERVING_GC_FLAGS, '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let result: (LabelerRun & { cpuMs: number }) | undefined;
    child.on('message', (m) => {
      const message = m as { kind: 'measuring' } | ({ kind: 'result' } & Omit<LabelerRun, 'failures'> & { failures: [string, { count: number; example: string }][]; cpuMs: number });
      if (message.kind === 'measuring') return onMeasuring();
      const { kind: _kind, ...run } = message;
      result = { ...run, failures: new Map(run.failures) };
    });
    child.once('error', reject);
    // Resolved on exit, so that the child's CPU time is no longer counted among the emulators' (children of this process).
    child.once('exit', (code) => (result ? resolve(result) : reject(new Error(`the labelers' process exited with ${code} and no result`))));
  });
}

export async function runLabelers(opts: LabelerOptions, onMeasuring: () => void = () => undefined): Promise<LabelerRun> {
  if (!(opts.warmupSeconds >= 1)) throw new Error(`warmupSeconds must be at least 1 (every labeler starts within its first second), not ${opts.warmupSeconds}`);
  const startedAt = Date.now();
  const run: LabelerRun = {
    requests: [], warmupRequests: [], leases: [], foreignLeases: [], emptyNext: 0, failures: new Map(), errors: 0, timeouts: 0,
    startedAt, measuredFrom: startedAt + opts.warmupSeconds * 1000, endedAt: 0,
  };
  const measuring = setTimeout(onMeasuring, run.measuredFrom - Date.now());
  const base = `/api/projects/${encodeURIComponent(opts.projectId)}`;
  // Request ids must not repeat across runs against one server: a repeated one is a retry to the server.
  const runId = Math.random().toString(36).slice(2, 8);
  const runs = Array.from({ length: opts.labelers }, async (_, i) => {
    // Paced labelers start at random points within their first second, as people do, not in lock step.
    if (opts.labelRate > 0) await new Promise((r) => setTimeout(r, Math.random() * 1000));
    const labeler = `labeler-${String(i + 1).padStart(2, '0')}`;
    let last: { kind: RequestKind; status: number } | undefined;
    let seq = 0;
    const failed = (kind: RequestKind, status: number, body: string) => {
      const key = `${kind} ${status}`;
      const entry = run.failures.get(key) ?? { count: 0, example: body.slice(0, 300) };
      entry.count++;
      run.failures.set(key, entry);
    };
    const { instance, finished } = startCannon<Context>({
      url: opts.url,
      connections: 1,
      duration: opts.warmupSeconds + opts.seconds,
      // autocannon paces per connection in requests per second: one next and one annotate per label.
      ...(opts.labelRate > 0 ? { connectionRate: 2 * opts.labelRate } : {}),
      timeout: 30,
      headers: { 'x-winnow-user': labeler },
      initialContext: {},
      requests: [
        {
          method: 'GET',
          path: `${base}/next?count=1`,
          onResponse: (status, body, context) => {
            last = { kind: 'next', status };
            if (status !== 200) return failed('next', status, body);
            const served = JSON.parse(body) as { samples: { sample: { sampleId: string; version: number; lease?: { labelerId: string; until: number } } }[] };
            const sample = served.samples[0]?.sample;
            if (!sample) {
              run.emptyNext++;
              return;
            }
            if (sample.lease?.labelerId !== labeler) {
              run.foreignLeases.push(`${labeler} was served ${sample.sampleId} leased to ${sample.lease?.labelerId ?? 'nobody'}`);
              return;
            }
            context.lease = { labeler, sampleId: sample.sampleId, version: sample.version, until: sample.lease.until, servedAt: Date.now() };
            run.leases.push(context.lease);
          },
        },
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          setupRequest: (req, context) => {
            const lease = context.lease;
            if (!lease) return null; // nothing served: ask again
            const body = { version: lease.version, requestId: `${labeler}-${runId}-${++seq}`, classIndex: Math.floor(Math.random() * opts.classes) };
            return { ...req, path: `${base}/samples/${encodeURIComponent(lease.sampleId)}/annotations`, body: JSON.stringify(body) };
          },
          onResponse: (status, body, context) => {
            last = { kind: 'annotate', status };
            const lease = context.lease!;
            lease.annotatedAt = Date.now();
            lease.annotateStatus = status;
            if (status !== 201) failed('annotate', status, body);
          },
        },
      ],
    });
    // 'response' follows the request's onResponse synchronously, so `last` names the request it measured.
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (last && last.status === status) (Date.now() - ms >= run.measuredFrom ? run.requests : run.warmupRequests).push({ kind: last.kind, status, ms });
      last = undefined;
    });
    return finished;
  });
  const results: CannonResult[] = await Promise.all(runs).finally(() => clearTimeout(measuring));
  run.endedAt = Date.now();
  for (const r of results) {
    run.errors += r.errors;
    run.timeouts += r.timeouts;
  }
  return run;
}
