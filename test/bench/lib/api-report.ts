// The API benchmark's printed table and JSON record.

import os from 'node:os';
import type { LabelerRun, RequestKind } from './api-labelers.js';
import type { LabelCheck, LeaseCheck } from './api-verify.js';
import { summarize, type LatencySummary } from './latency.js';
import { peakRssMiB } from './memory.js';
import type { StoreCall } from './store-calls.js';
import { formatTable } from './table.js';

/** Issue 17: with 50 labelers while retraining, in each of three consecutive runs. */
export const TARGET_NEXT_P99_MS = 15;
export const TARGET_ANNOTATE_P99_MS = 30;

export interface ApiBenchInput {
  config: { samples: number; seconds: number; labelers: number; classes: number; labelRate: number; warmupSeconds: number; training: boolean; forcedRetrains: boolean; leaseMs: number };
  /** Latency from the measured phase only; errors, status codes and leases from both. */
  run: LabelerRun;
  leases: LeaseCheck;
  labels: LabelCheck;
  retrains: { forced: LatencySummary; byWorker: number; failures: string[]; firstMs: number };
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  /** CPU time (user + system) during the measured phase: this process (all threads), its main (API) thread, the
   * emulators and the trainer (child processes) and the load generator (its own process). */
  cpuMs: number;
  apiThreadCpuMs?: number;
  childCpuMs?: number;
  /** Context switches of the emulators' threads (child processes other than the trainer). */
  childContextSwitches?: number;
  trainerCpuMs?: number;
  loadGeneratorCpuMs?: number;
  store: { calls: StoreCall[]; batchItems: number };
  /** HTTP requests from this process (API, ingest, the trainer's parent side) to each emulator while labeling. */
  emulatorRequests?: Record<string, number>;
  /** The same requests timed inside the API's HTTP server (parsed -> finished). */
  serverSide?: Record<RequestKind, LatencySummary>;
  loadBefore: number[];
  loadAfter: number[];
}

export function apiReport(r: ApiBenchInput) {
  const elapsed = (r.run.endedAt - r.run.measuredFrom) / 1000;
  const route = (kind: RequestKind) => {
    const all = r.run.requests.filter((q) => q.kind === kind);
    const non2xx = all.filter((q) => q.status < 200 || q.status >= 300).length;
    return { ...summarize(all.map((q) => q.ms)), perSecond: round(all.length / elapsed), non2xx };
  };
  const next = route('next');
  const annotate = route('annotate');
  const requests = r.run.requests.length;
  const warmNon2xx = r.run.warmupRequests.filter((q) => q.status < 200 || q.status >= 300).length;
  const non2xx = next.non2xx + annotate.non2xx + warmNon2xx;
  const conflicts = [...r.run.requests, ...r.run.warmupRequests].filter((q) => q.status === 409).length;
  const { errors, timeouts, foreignLeases: foreign } = r.run;
  const checks = {
    noErrors: errors === 0,
    allResponses2xx: non2xx === 0,
    noOverlappingLeases: r.leases.overlaps.length === 0 && foreign.length === 0,
    atMostOneLabelPerSample: r.labels.samplesLabeledTwice === 0,
    everyLabelByLeaseHolder: r.labels.labelsWithoutLease === 0,
    everyLabelOnItsHead: r.labels.labelsNotOnHead === 0 && r.labels.progressLabeled === r.labels.labeledSamples,
    retrainsSucceeded: r.retrains.failures.length === 0,
  };
  const ok = Object.values(checks).every(Boolean);
  const cycles = r.run.requests.filter((q) => q.kind === 'annotate').length || 1;
  const pace = r.config.labelRate > 0 ? `${r.config.labelRate} label/s each` : 'no pause between labels (saturation)';
  const training = !r.config.training ? 'no retrains' : r.config.forcedRetrains ? 'retrains back to back' : 'retrains by the worker';
  const mode = `${r.config.labelers} labelers, ${pace}, ${training}`;
  const perLabel = (ms: number | undefined) => (ms === undefined ? '?' : round(ms / cycles));
  const fmt = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');

  const text = [
    `== bench:api: ${mode} (label-rate ${r.config.labelRate}) ==`,
    formatTable(
      ['route', 'requests', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'non-2xx'],
      [
        ['next-sample', next.count, next.perSecond, next.p50, next.p90, next.p99, next.max, next.non2xx],
        ['annotate', annotate.count, annotate.perSecond, annotate.p50, annotate.p90, annotate.p99, annotate.max, annotate.non2xx],
      ],
    ),
    ...(r.serverSide
      ? [
          `inside the API's HTTP server: next-sample p50 ${r.serverSide.next.p50} / p99 ${r.serverSide.next.p99} ms, ` +
            `annotate p50 ${r.serverSide.annotate.p50} / p99 ${r.serverSide.annotate.p99} ms (the rest is the network stack and the labelers' process)`,
        ]
      : []),
    '',
    `target next-sample p99 <= ${TARGET_NEXT_P99_MS} ms: ${next.p99 <= TARGET_NEXT_P99_MS ? 'met' : 'MISSED'} (${next.p99} ms); ` +
      `annotate p99 <= ${TARGET_ANNOTATE_P99_MS} ms: ${annotate.p99 <= TARGET_ANNOTATE_P99_MS ? 'met' : 'MISSED'} (${annotate.p99} ms); ` +
      `event-loop delay p99 ${r.eventLoopDelayMs.p99} ms`,
    `${mode}, ${elapsed.toFixed(1)} s, ${r.config.samples} samples: ${round(requests / elapsed)} req/s, ${round(cycles / elapsed)} labels/s`,
    `CPU per label: API thread ${perLabel(r.apiThreadCpuMs)} ms; whole API process ${perLabel(r.cpuMs)} ms; ` +
      `trainer process ${perLabel(r.trainerCpuMs)} ms; emulators ${perLabel(r.childCpuMs)} ms; load generator ${perLabel(r.loadGeneratorCpuMs)} ms` +
      (r.childContextSwitches === undefined ? '' : `; emulators' context switches per label ${round(r.childContextSwitches / cycles)}`),
    `errors ${errors} (timeouts ${timeouts}); non-2xx ${non2xx} (409: ${conflicts}); empty next answers ${r.run.emptyNext}`,
    ...[...r.run.failures].map(([k, f]) => `  ${k} x${f.count}: ${f.example}`),
    `leases ${r.leases.leases} on ${r.leases.distinctSamples} samples; samples served to two labelers ${r.leases.servedToSeveral}; ` +
      `overlapping lease windows ${r.leases.overlaps.length}; samples served under another's lease ${foreign.length}`,
    `label annotations ${r.labels.labelAnnotations} on ${r.labels.labeledSamples} samples; samples labeled twice ${r.labels.samplesLabeledTwice}; ` +
      `labels by a labeler without the lease ${r.labels.labelsWithoutLease}; not on their sample's head ${r.labels.labelsNotOnHead}; ` +
      `labeled samples in the progress route ${r.labels.progressLabeled}`,
    `retrains while labeling: ${r.retrains.forced.count} forced back to back (p50 ${r.retrains.forced.p50} ms, max ${r.retrains.forced.max} ms) + ` +
      `${r.retrains.byWorker} by the worker (every 4 labels / 3 s); failed ${r.retrains.failures.length}; first (cold start) ${r.retrains.firstMs} ms`,
    ...(r.emulatorRequests
      ? [`emulator requests from the API process per label: ${Object.entries(r.emulatorRequests).map(([name, n]) => `${name} ${round(n / cycles)}`).join(', ')}`]
      : []),
    `event-loop delay p50 ${r.eventLoopDelayMs.p50} ms, p99 ${r.eventLoopDelayMs.p99} ms, max ${r.eventLoopDelayMs.max} ms; peak RSS ${Math.round(peakRssMiB())} MiB`,
    `load average before ${fmt(r.loadBefore)}, after ${fmt(r.loadAfter)} (${os.cpus().length} CPUs)`,
    '',
    `store calls on the API's thread per label (reads served from the API's caches not counted; nested calls such as ` +
      `labelers.recordLabel -> change -> read + write listed each), mean and p99 ms as the caller saw it; ` +
      `${round(r.store.batchItems / cycles)} samples batch-read per label:`,
    formatTable(
      ['call', 'calls', 'per label', 'mean ms', 'p99 ms'],
      r.store.calls.filter((c) => c.calls / cycles >= 0.05).map((c) => [c.call, c.calls, round(c.calls / cycles), c.meanMs, c.p99Ms]),
    ),
    '',
    `checks: ${ok ? 'OK' : `FAILED (${Object.entries(checks).filter(([, v]) => !v).map(([k]) => k).join(', ')})`}`,
  ].join('\n');

  const json = {
    at: new Date().toISOString(),
    config: r.config,
    machine: { cpus: os.cpus().length, node: process.version, loadBefore: r.loadBefore, loadAfter: r.loadAfter },
    routes: { next, annotate },
    ...(r.serverSide ? { serverSide: r.serverSide } : {}),
    targetNextP99Ms: TARGET_NEXT_P99_MS,
    targetAnnotateP99Ms: TARGET_ANNOTATE_P99_MS,
    targetMet: next.p99 <= TARGET_NEXT_P99_MS && annotate.p99 <= TARGET_ANNOTATE_P99_MS,
    ...(r.emulatorRequests ? { emulatorRequestsPerLabel: Object.fromEntries(Object.entries(r.emulatorRequests).map(([name, n]) => [name, round(n / cycles)])) } : {}),
    requestsPerSecond: round(requests / elapsed),
    labelsPerSecond: round(cycles / elapsed),
    mode,
    ...(r.childContextSwitches === undefined ? {} : { emulatorContextSwitchesPerLabel: round(r.childContextSwitches / cycles) }),
    cpuMsPerLabel: {
      process: round(r.cpuMs / cycles),
      ...(r.apiThreadCpuMs === undefined ? {} : { apiThread: round(r.apiThreadCpuMs / cycles) }),
      ...(r.childCpuMs === undefined ? {} : { emulators: round(r.childCpuMs / cycles) }),
      ...(r.trainerCpuMs === undefined ? {} : { trainer: round(r.trainerCpuMs / cycles) }),
      ...(r.loadGeneratorCpuMs === undefined ? {} : { loadGenerator: round(r.loadGeneratorCpuMs / cycles) }),
    },
    errors,
    timeouts,
    non2xx,
    conflicts409: conflicts,
    failures: Object.fromEntries(r.run.failures),
    emptyNext: r.run.emptyNext,
    leases: { ...r.leases, overlaps: r.leases.overlaps.slice(0, 20), foreign: foreign.slice(0, 20) },
    labels: r.labels,
    retrains: r.retrains,
    eventLoopDelayMs: r.eventLoopDelayMs,
    storeCalls: r.store,
    peakRssMiB: Math.round(peakRssMiB()),
    checks,
    ok,
  };
  return { text, json, ok };
}

const round = (x: number) => Math.round(x * 10) / 10;
