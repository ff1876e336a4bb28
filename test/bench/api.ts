// API benchmark: the real local stack started from this process (startLocalStack: emulators, API, trainer), a project
// seeded with N samples and random embeddings, then 50 simulated labelers (autocannon in a process of its own, one
// connection each) looping next-sample -> annotate for a fixed time while the trainer retrains (every few labels,
// plus forced retrains back to back). Reports latency per route, throughput, errors, and checks afterwards that no
// sample was leased to two labelers at once and no sample got two labels.
//   npm run bench:api -- [--samples 5000] [--seconds 20] [--labelers 50] [--label-rate 1] [--classes 5]
//                        [--warmup 3] [--no-forced-retrains] [--no-training] [--profile FILE.cpuprofile]
//                        [--no-store-thread] [--heap-profile FILE.heapprofile] [--emulator-profile DIR] [--models DIR] [--out test-output/bench]
// --warmup S: the labelers' first S seconds (at least 1) are not measured; the same labelers, connections and process
// then go on into the measured seconds (lib/api-labelers.ts says why).
// --label-rate N paces each labeler to N labels/s (0.5, 1, 1.5, ...: a person looking at the image; the default 1 is
// a fast keyboard labeler); 0 = no pause at all, which measures saturation throughput.
// --no-store-thread runs the API's DynamoDB calls on its own thread, as before the store thread (to compare).
// --no-training serves from the first ranking only (no retrains), to separate serving cost from training cost.
// --profile writes a CPU profile of the API's thread while labeling and prints its time by component.
// --heap-profile writes a sampled allocation profile of the API's thread while labeling (garbage included: what the
// young-generation collections have to sweep) and prints its bytes per label by component and allocating function.
// --emulator-profile starts the dynalite child with --cpu-prof into DIR and prints its CPU while labeling (seeding cut
// off) per label, by component and by function.

import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import v8 from 'node:v8';
import path from 'node:path';
import { constants as perfConstants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { startLocalStack } from '../../functions/local/stack.js';
import { createImageAnalyzer } from '../../functions/vision/analyzer.js';
import { tempDir } from '../support/stack.js';
import { threadCpuMs } from './lib/api-cpu.js';
import { runLabelersApart } from './lib/api-labelers.js';
import { labelingRequestKind, serverTiming } from './lib/api-server-timing.js';
import { emulatorRequests } from './lib/api-emulator-requests.js';
import { apiReport } from './lib/api-report.js';
import { seedProject } from './lib/api-seed.js';
import { checkLabels, checkLeases } from './lib/api-verify.js';
import { numberArg, parseArgs, stringArg } from './lib/args.js';
import { childrenContextSwitches, childrenCpuMs, isTrainerProcess } from './lib/child-cpu.js';
import { startCpuProfile } from './lib/cpu-profile.js';
import { startHeapProfile, summarizeAllocations } from './lib/heap-profile.js';
import { summarizeProfile } from './lib/profile-summary.js';
import { profileClockUs, readProfiles, topSelf, windowed } from './lib/profile-window.js';
import { summarize } from './lib/latency.js';
import { REPO_ROOT, sharedPath } from './lib/paths.js';
import { recordStoreCalls } from './lib/store-calls.js';
import { formatTable } from './lib/table.js';

/** The API's default lease (functions/api/routes/labeling.ts); the local stack does not change it. */
const LEASE_MS = 10 * 60_000;
const PROJECT_ID = 'bench-api';

const args = parseArgs();
const config = {
  samples: numberArg(args, 'samples', 5000),
  seconds: numberArg(args, 'seconds', 20),
  labelers: numberArg(args, 'labelers', 50),
  classes: numberArg(args, 'classes', 5),
  labelRate: numberArg(args, 'label-rate', 1),
  warmupSeconds: numberArg(args, 'warmup', 3),
  training: args['no-training'] !== true,
  forcedRetrains: args['no-forced-retrains'] !== true && args['no-training'] !== true,
  leaseMs: LEASE_MS,
  storeThread: args['no-store-thread'] !== true,
};
if (!(config.warmupSeconds >= 1)) throw new Error(`--warmup must be at least 1 second (every labeler starts within its first), not ${config.warmupSeconds}`);
if (config.labelRate < 0 || !Number.isInteger(config.labelRate * 2)) {
  throw new Error('--label-rate must be 0 (no pause) or a multiple of 0.5: autocannon paces whole requests per second');
}
const modelDir = path.resolve(stringArg(args, 'models') ?? sharedPath('models'));
const outDir = path.resolve(REPO_ROOT, stringArg(args, 'out') ?? 'test-output/bench');
const profileFile = stringArg(args, 'profile');
const heapProfileFile = stringArg(args, 'heap-profile');
const emulatorProfileDir = stringArg(args, 'emulator-profile');
if (emulatorProfileDir) {
  await rm(path.resolve(emulatorProfileDir), { recursive: true, force: true });
  process.env.WINNOW_DYNALITE_NODE_FLAGS = `--cpu-prof --cpu-prof-dir=${path.resolve(emulatorProfileDir)}`;
}
let emulatorWindow: { fromUs: number; toUs: number; labels: number } | undefined;
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
  storeThread: config.storeThread,
  // --no-training measures serving alone: the worker's triggers are pushed out of reach (first ranking only).
  ...(config.training ? {} : { trainer: { everyLabels: Number.MAX_SAFE_INTEGER, afterMs: 2 ** 31 - 1 } }),
  log: (line) => {
    if (/^trainer: .* generation /.test(line)) trainerLog.runs++;
    else if (line.startsWith('trainer:') && line.includes('failed')) trainerLog.failures.push(line);
  },
});

try {
  log(`seeding ${config.samples} samples (${embedder.dims}-d ${embedder.name} embeddings, ${config.classes} classes)`);
  const classes = Array.from({ length: config.classes }, (_, i) => `class-${i}`);
  const seed = await seedProject(stack, { projectId: PROJECT_ID, classes, samples: config.samples, embedder: embedder.name, dims: embedder.dims, admin: 'bench-admin' });
  const first = await stack.trainer.flush(PROJECT_ID);
  if (!first) throw new Error('the first retrain produced no ranking');
  log(`seeded in ${Math.round(seed.ms.records + seed.ms.embeddings)} ms; first ranking (cold start) in ${Math.round(first.ms.total)} ms`);

  const base = { url: stack.url, projectId: PROJECT_ID, labelers: config.labelers, classes: config.classes, labelRate: config.labelRate };
  log(`${config.labelers} labelers for ${config.warmupSeconds} s of warm-up, then ${config.seconds} s measured${config.forcedRetrains ? ', forced retrains back to back' : ''}`);

  // Everything measured starts when the labelers' warm-up ends (api-labelers.ts), in the same run.
  const startMeasuring = async () => {
    const storeCalls = recordStoreCalls(stack.stores);
    const server = serverTiming(labelingRequestKind);
    const emulatorCalls = emulatorRequests({ dynamodb: stack.dynamoEndpoint, s3: stack.s3Endpoint }, stack.storeThread);
    const loop = eventLoopDelay();
    const gc = gcPauses();
    const cpu = process.cpuUsage();
    const apiThreadCpu = threadCpuMs();
    const emulatorCpu = childrenCpuMs((c) => !isTrainerProcess(c));
    const trainerCpu = childrenCpuMs(isTrainerProcess);
    const emulatorSwitches = childrenContextSwitches((c) => !isTrainerProcess(c));
    const labelingFromUs = profileClockUs();
    stack.serveAhead.counts = { held: 0, waitedForLease: 0, again: 0, walked: 0 };
    storeCalls.start();
    server.start();
    emulatorCalls.start();
    const runsBefore = trainerLog.runs;
    const retrains = forcedRetrainLoop(config.forcedRetrains);
    const profile = profileFile ? await startCpuProfile() : undefined;
    const heapProfile = heapProfileFile ? await startHeapProfile() : undefined;
    return { storeCalls, server, emulatorCalls, loop, gc, cpu, apiThreadCpu, emulatorCpu, trainerCpu, emulatorSwitches, labelingFromUs, runsBefore, retrains, profile, heapProfile };
  };
  let measuring: ReturnType<typeof startMeasuring> | undefined;
  const run = await runLabelersApart({ ...base, warmupSeconds: config.warmupSeconds, seconds: config.seconds }, () => (measuring = startMeasuring()));
  if (!measuring) throw new Error('the labelers never reached their measured phase');
  const { storeCalls, server, emulatorCalls, loop, gc, cpu, apiThreadCpu, emulatorCpu, trainerCpu, emulatorSwitches, labelingFromUs, runsBefore, retrains, profile, heapProfile } = await measuring;
  emulatorWindow = { fromUs: labelingFromUs, toUs: profileClockUs(), labels: Math.max(1, run.leases.filter((l) => l.annotateStatus === 201 && l.servedAt >= run.measuredFrom).length) };
  const forced = await retrains.stop();
  await storeCalls.settled(); // requests the load generator cut off at the end still finish on the server
  const store = storeCalls.stop();
  const serverSide = server.stop();
  const nextPaths = { ...stack.serveAhead.counts };
  const emulatorRequestCounts = emulatorCalls.stop();
  const used = process.cpuUsage(cpu);
  const apiThreadUsed = apiThreadCpu === undefined ? undefined : threadCpuMs()! - apiThreadCpu;
  // The labelers' process has exited by now: the children left are the emulators and the trainer.
  const childUsed = emulatorCpu === undefined ? undefined : childrenCpuMs((c) => !isTrainerProcess(c))! - emulatorCpu;
  const trainerUsed = trainerCpu === undefined ? undefined : childrenCpuMs(isTrainerProcess)! - trainerCpu;
  const emulatorSwitched = emulatorSwitches === undefined ? undefined : childrenContextSwitches((c) => !isTrainerProcess(c))! - emulatorSwitches;
  const delay = loop.stop();
  const gcSeen = gc.stop();
  const profiled = await profile?.stop(path.resolve(profileFile!));
  const heapProfiled = await heapProfile?.stop(path.resolve(heapProfileFile!));
  await stack.trainer.idle();
  const loadAfter = os.loadavg();

  const { leases } = run;
  const report = apiReport({
    config,
    run,
    leases: checkLeases(leases, LEASE_MS),
    labels: await checkLabels(stack.stores, PROJECT_ID, leases, async () => {
      const res = await fetch(`${stack.url}/api/projects/${PROJECT_ID}/progress`, { headers: { 'x-winnow-user': 'bench-admin' } });
      if (!res.ok) throw new Error(`progress answered ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { labeled: number }).labeled;
    }),
    retrains: { forced, byWorker: trainerLog.runs - runsBefore - forced.count, failures: trainerLog.failures, firstMs: Math.round(first.ms.total) },
    eventLoopDelayMs: delay,
    cpuMs: (used.user + used.system) / 1000,
    apiThreadCpuMs: apiThreadUsed,
    childCpuMs: childUsed,
    childContextSwitches: emulatorSwitched,
    trainerCpuMs: trainerUsed,
    loadGeneratorCpuMs: run.cpuMs,
    store,
    emulatorRequests: emulatorRequestCounts,
    serverSide,
    loadBefore,
    loadAfter,
  });
  console.log(report.text);
  const nexts = Math.max(1, nextPaths.held + nextPaths.waitedForLease + nextPaths.again + nextPaths.walked);
  const pct = (n: number) => `${n} (${Math.round((1000 * n) / nexts) / 10}%)`;
  console.log(
    `next-sample answers: the sample leased ahead ${pct(nextPaths.held)}; the same after waiting for its lease in flight ` +
      `${pct(nextPaths.waitedForLease)}; the sample shown last again (a reload) ${pct(nextPaths.again)}; lease walk on the request ${pct(nextPaths.walked)}`,
  );
  const newSpace = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  console.log(
    `GC pauses on the API's thread while labeling: ${gcSeen.map((g) => `${g.kind} ${g.count} (total ${g.totalMs} ms, p99 ${g.p99Ms} ms, max ${g.maxMs} ms)`).join('; ') || 'none'}` +
      `; young generation now ${Math.round((newSpace?.space_size ?? 0) / 2 ** 20)} MiB`,
  );
  const mainThread = profiled && summarizeProfile(profiled);
  if (mainThread) {
    console.log(`\nthe API's thread while labeling, by component (${profileFile}):`);
    console.log(formatTable(['component', 'ms', '%'], mainThread.map((c) => [c.component, c.ms, c.share])));
  }
  const allocations = heapProfiled && summarizeAllocations(heapProfiled);
  if (allocations) {
    const labels = Math.max(1, run.leases.filter((l) => l.annotateStatus === 201).length);
    const perLabel = (mib: number) => Math.round((mib * 1024) / labels);
    console.log(`\nallocations on the API's thread while labeling: ${allocations.totalMiB} MiB, ${perLabel(allocations.totalMiB)} KiB per label (${heapProfileFile}):`);
    console.log(formatTable(['component', 'KiB/label', '%'], allocations.byComponent.map((c) => [c.component, perLabel(c.mib), c.share])));
    console.log(formatTable(['allocating function', 'component', 'KiB/label', '%'], allocations.topFunctions.map((f) => [f.fn, f.component, perLabel(f.mib), f.share])));
  }
  await mkdir(outDir, { recursive: true });
  const extra = { gcPauses: gcSeen, nextAnswers: nextPaths, ...(mainThread ? { mainThreadProfile: mainThread } : {}), ...(allocations ? { allocations } : {}) };
  await writeFile(path.join(outDir, 'api.json'), `${JSON.stringify({ ...report.json, ...extra }, null, 2)}\n`);
  log(`wrote ${path.relative(REPO_ROOT, path.join(outDir, 'api.json'))}${[profileFile, heapProfileFile].filter(Boolean).map((f) => ` and ${f}`).join('')}`);
  process.exitCode = report.ok ? 0 : 1;
} finally {
  await stack.close();
  await rm(dataDir, { recursive: true, force: true });
}
if (emulatorProfileDir && emulatorWindow) await printEmulatorProfile(path.resolve(emulatorProfileDir), emulatorWindow);

/** The dynalite child's CPU while labeling, per label, from the profile it wrote at exit. */
async function printEmulatorProfile(dir: string, window: { fromUs: number; toUs: number; labels: number }) {
  const [profile] = await readProfiles(dir);
  if (!profile) return log(`no CPU profile of the dynalite child in ${dir}`);
  const cut = windowed(profile, window.fromUs, window.toUs);
  const perLabel = (ms: number) => Math.round((ms / window.labels) * 1000) / 1000;
  console.log(`\nthe dynalite child while labeling: ${Math.round(cut.busyMs)} ms of CPU, ${perLabel(cut.busyMs)} ms per label (${dir}):`);
  console.log(formatTable(['component', 'ms/label', '%'], summarizeProfile(cut.profile).map((c) => [c.component, perLabel(c.ms), c.share])));
  console.log(formatTable(['function (self time)', 'ms/label', '%'], topSelf(cut.profile, 20).map((f) => [f.fn, perLabel(f.ms), f.share])));
}

/** Retrains back to back (each `flush` waits for the run before it) until stopped. */
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
      return summarize(ms);
    },
  };
}

/** The process's garbage collections by kind (young: scavenge; old: mark-compact), as perf_hooks reports them. */
function gcPauses() {
  const kinds = new Map<number, string>([
    [perfConstants.NODE_PERFORMANCE_GC_MINOR, 'scavenge'],
    [perfConstants.NODE_PERFORMANCE_GC_MAJOR, 'mark-compact'],
    [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental marking'],
    [perfConstants.NODE_PERFORMANCE_GC_WEAKCB, 'weak callbacks'],
  ]);
  const ms = new Map<string, number[]>();
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = kinds.get((entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1) ?? 'other';
      ms.set(kind, [...(ms.get(kind) ?? []), entry.duration]);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    stop: () => {
      observer.disconnect();
      const round = (x: number) => Math.round(x * 10) / 10;
      return [...ms].map(([kind, xs]) => {
        const sorted = [...xs].sort((a, b) => a - b);
        return { kind, count: xs.length, totalMs: round(xs.reduce((a, b) => a + b, 0)), p99Ms: round(sorted[Math.floor(sorted.length * 0.99)] ?? 0), maxMs: round(sorted[sorted.length - 1]) };
      });
    },
  };
}

/**
 * How late the API's event loop ran a timer due every RESOLUTION_MS (blocked by its own work, or waiting for a CPU).
 * Node's histogram records the whole interval between ticks, so the interval itself is taken off.
 */
function eventLoopDelay() {
  const RESOLUTION_MS = 10;
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  return {
    stop: () => {
      h.disable();
      const ms = (ns: number) => Math.max(0, Math.round(ns / 1e5 - RESOLUTION_MS * 10) / 10);
      return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) };
    },
  };
}
