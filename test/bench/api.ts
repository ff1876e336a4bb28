// API benchmark: the real local stack in this process (dynalite + s3rver + API + in-process trainer), a project
// seeded with N samples and random embeddings, then 50 simulated labelers (autocannon, one connection each)
// looping next-sample -> annotate for a fixed time while the trainer retrains (every few labels, plus forced
// retrains back to back). Reports latency per route, throughput, errors, and checks afterwards that no sample was
// leased to two labelers at once and no sample got two labels.
//   npm run bench:api -- [--samples 5000] [--seconds 20] [--labelers 50] [--classes 5] [--warmup 3]
//                        [--no-forced-retrains] [--models DIR] [--out test-output/bench]

import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startLocalStack } from '../../functions/local/stack.js';
import { createImageAnalyzer } from '../../functions/vision/analyzer.js';
import { tempDir } from '../support/stack.js';
import { runLabelers, type LabelerRun, type RequestKind } from './lib/api-labelers.js';
import { seedProject } from './lib/api-seed.js';
import { checkLabels, checkLeases } from './lib/api-verify.js';
import { numberArg, parseArgs, stringArg } from './lib/args.js';
import { summarize } from './lib/latency.js';
import { peakRssMiB } from './lib/memory.js';
import { REPO_ROOT, sharedPath } from './lib/paths.js';
import { formatTable } from './lib/table.js';

/** The API's default lease (functions/api/routes/labeling.ts); the local stack does not change it. */
const LEASE_MS = 10 * 60_000;
const TARGET_NEXT_P99_MS = 25;
const PROJECT_ID = 'bench-api';

const args = parseArgs();
const sampleCount = numberArg(args, 'samples', 5000);
const seconds = numberArg(args, 'seconds', 20);
const labelers = numberArg(args, 'labelers', 50);
const classCount = numberArg(args, 'classes', 5);
const warmup = numberArg(args, 'warmup', 3);
const forcedRetrains = args['no-forced-retrains'] !== true;
const modelDir = path.resolve(stringArg(args, 'models') ?? sharedPath('models'));
const outDir = path.resolve(REPO_ROOT, stringArg(args, 'out') ?? 'test-output/bench');
const log = (line: string) => process.stderr.write(`${line}\n`);
const loadBefore = os.loadavg();

const analyzer = await createImageAnalyzer({ modelDir });
const embedder = analyzer.embedder;
if (!embedder) throw new Error(`the embedder is missing: ${analyzer.status().missing.join('; ')}`);
const trainerLog = { runs: 0, failures: [] as string[] };
const dataDir = await tempDir('bench-api');
const stack = await startLocalStack({
  port: 0,
  host: '127.0.0.1',
  dataDir,
  s3Port: 0,
  dynamoPort: 0,
  analyzer,
  log: (line) => {
    if (/^trainer: .* generation /.test(line)) trainerLog.runs++;
    else if (line.startsWith('trainer:') && line.includes('failed')) trainerLog.failures.push(line);
  },
});

try {
  log(`seeding ${sampleCount} samples (${embedder.dims}-d ${embedder.name} embeddings, ${classCount} classes)`);
  const classes = Array.from({ length: classCount }, (_, i) => `class-${i}`);
  const seed = await seedProject(stack, { projectId: PROJECT_ID, classes, samples: sampleCount, embedder: embedder.name, dims: embedder.dims, admin: 'bench-admin' });
  const first = await stack.trainer.flush(PROJECT_ID);
  if (!first) throw new Error('the first retrain produced no ranking');
  log(`seeded in ${Math.round(seed.ms.records + seed.ms.embeddings)} ms; first ranking (cold start) in ${Math.round(first.ms.total)} ms`);

  const base = { url: stack.url, projectId: PROJECT_ID, labelers, classes: classCount };
  const warm = warmup > 0 ? await runLabelers({ ...base, seconds: warmup }) : undefined;
  await stack.trainer.idle();
  log(`${labelers} labelers for ${seconds} s${forcedRetrains ? ', forced retrains back to back' : ''}`);

  const loop = eventLoopDelay();
  const retrains = forcedRetrainLoop(forcedRetrains);
  const runsBefore = trainerLog.runs;
  const run = await runLabelers({ ...base, seconds });
  const forced = await retrains.stop();
  const delay = loop.stop();
  await stack.trainer.idle();
  const autoRetrains = trainerLog.runs - runsBefore - forced.count;
  const loadAfter = os.loadavg();

  const leases = [...(warm?.leases ?? []), ...run.leases];
  const leaseCheck = checkLeases(leases, LEASE_MS);
  const labelCheck = await checkLabels(stack.stores, PROJECT_ID, leases);
  const report = buildReport(run, warm, { leaseCheck, labelCheck, forced, autoRetrains, delay, loadBefore, loadAfter, first: first.ms.total });
  console.log(report.text);
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, 'api.json'), `${JSON.stringify(report.json, null, 2)}\n`);
  log(`wrote ${path.relative(REPO_ROOT, path.join(outDir, 'api.json'))}`);
  process.exitCode = report.ok ? 0 : 1;
} finally {
  await stack.close();
  await rm(dataDir, { recursive: true, force: true });
}

/** Retrains back to back (each `flush` waits for the previous run) until stopped. */
function forcedRetrainLoop(enabled: boolean) {
  let stopping = false;
  const ms: number[] = [];
  const done = (async () => {
    while (enabled && !stopping) {
      const result = await stack.trainer.flush(PROJECT_ID);
      if (result) ms.push(result.ms.total);
      await new Promise((r) => setImmediate(r));
    }
  })();
  return {
    stop: async () => {
      stopping = true;
      await done;
      return { count: ms.length, ...summarize(ms) };
    },
  };
}

/** How long the event loop was blocked (training runs on it in the local stack). */
function eventLoopDelay() {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  return {
    stop: () => {
      h.disable();
      const ms = (ns: number) => Math.round(ns / 1e5) / 10;
      return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) };
    },
  };
}

interface Checks {
  leaseCheck: ReturnType<typeof checkLeases>;
  labelCheck: Awaited<ReturnType<typeof checkLabels>>;
  forced: { count: number; p50: number; max: number };
  autoRetrains: number;
  delay: { p50: number; p99: number; max: number };
  loadBefore: number[];
  loadAfter: number[];
  first: number;
}

function buildReport(run: LabelerRun, warm: LabelerRun | undefined, c: Checks) {
  const elapsed = (run.endedAt - run.startedAt) / 1000;
  const route = (kind: RequestKind) => {
    const all = run.requests.filter((r) => r.kind === kind);
    const ok = all.filter((r) => r.status >= 200 && r.status < 300);
    return { ...summarize(all.map((r) => r.ms)), perSecond: Math.round(all.length / elapsed), non2xx: all.length - ok.length };
  };
  const next = route('next');
  const annotate = route('annotate');
  const non2xx = next.non2xx + annotate.non2xx + (warm ? warm.requests.filter((r) => r.status >= 300).length : 0);
  const conflicts = run.requests.filter((r) => r.status === 409).length;
  const errors = run.errors + (warm?.errors ?? 0);
  const ok =
    errors === 0 && non2xx === 0 && c.leaseCheck.overlaps.length === 0 && run.foreignLeases.length === 0 &&
    c.labelCheck.samplesLabeledTwice === 0 && c.labelCheck.labelsWithoutLease === 0 && trainerLog.failures.length === 0;
  const rows = [next, annotate].map((r, i) => [i === 0 ? 'next-sample' : 'annotate', r.count, r.perSecond, r.p50, r.p90, r.p99, r.max, r.non2xx]);
  const fmt = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  const lines = [
    formatTable(['route', 'requests', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'non-2xx'], rows),
    '',
    `target next-sample p99 <= ${TARGET_NEXT_P99_MS} ms: ${next.p99 <= TARGET_NEXT_P99_MS ? 'met' : 'MISSED'} (${next.p99} ms)`,
    `${labelers} labelers x ${elapsed.toFixed(1)} s, ${sampleCount} samples; total ${Math.round(run.requests.length / elapsed)} req/s; ` +
      `labels stored ${c.labelCheck.labelAnnotations} (incl. ${warm?.leases.length ? `${warmup} s warm-up` : 'no warm-up'})`,
    `errors ${errors} (timeouts ${run.timeouts + (warm?.timeouts ?? 0)}), non-2xx ${non2xx} (409 ${conflicts}), empty next answers ${run.emptyNext}`,
    ...[...run.failures].map(([k, f]) => `  ${k} x${f.count}: ${f.example}`),
    `leases ${c.leaseCheck.leases} on ${c.leaseCheck.distinctSamples} samples; served to two labelers ${c.leaseCheck.servedToSeveral}; ` +
      `overlapping lease windows ${c.leaseCheck.overlaps.length}; foreign leases served ${run.foreignLeases.length}`,
    `samples with two label annotations ${c.labelCheck.samplesLabeledTwice}; labels by a labeler without the lease ${c.labelCheck.labelsWithoutLease}`,
    `retrains during the run: ${c.forced.count} forced (p50 ${c.forced.p50} ms, max ${c.forced.max} ms) + ${c.autoRetrains} by the worker; ` +
      `failed ${trainerLog.failures.length}; first (cold start) ${Math.round(c.first)} ms`,
    `event-loop delay p50 ${c.delay.p50} ms, p99 ${c.delay.p99} ms, max ${c.delay.max} ms; peak RSS ${peakRssMiB()} MiB`,
    `load average before ${fmt(c.loadBefore)}, after ${fmt(c.loadAfter)} (${os.cpus().length} CPUs)`,
    ok ? 'checks: OK' : 'checks: FAILED',
  ];
  const json = {
    at: new Date().toISOString(),
    config: { samples: sampleCount, seconds, labelers, classes: classCount, warmupSeconds: warmup, forcedRetrains, leaseMs: LEASE_MS },
    machine: { cpus: os.cpus().length, loadBefore: c.loadBefore, loadAfter: c.loadAfter, node: process.version },
    routes: { next, annotate },
    targetNextP99Ms: TARGET_NEXT_P99_MS,
    targetMet: next.p99 <= TARGET_NEXT_P99_MS,
    throughputPerSecond: Math.round(run.requests.length / elapsed),
    errors,
    timeouts: run.timeouts + (warm?.timeouts ?? 0),
    non2xx,
    conflicts409: conflicts,
    failures: Object.fromEntries(run.failures),
    emptyNext: run.emptyNext,
    leases: { ...c.leaseCheck, overlaps: c.leaseCheck.overlaps.slice(0, 20), foreign: run.foreignLeases.slice(0, 20) },
    labels: c.labelCheck,
    retrains: { forced: c.forced, byWorker: c.autoRetrains, failures: trainerLog.failures, firstMs: Math.round(c.first) },
    eventLoopDelayMs: c.delay,
    peakRssMiB: peakRssMiB(),
    ok,
  };
  return { text: lines.join('\n'), json, ok };
}
