// One end-to-end ingest run for the bench: a fresh local stack in a temp folder, a project made through the HTTP
// API, every staged image uploaded through the S3 API by the CLI's own importFolder (in a child process, as a
// user's upload would be, so the client's work does not land on the stack's event loop), then wait until ingest
// has finished. Store calls of the ingest handler are timed by wrapping the stack's store objects.

import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AwsStores } from '../../../functions/adapters/aws/clients.js';
import { api, localTarget, type Target } from '../../../functions/cli/stack-client.js';
import type { ImageAnalyzer } from '../../../functions/domain/ports.js';
import { startLocalStack, type LocalStack } from '../../../functions/local/stack.js';
import { tempDir } from '../../support/stack.js';
import { REPO_ROOT } from './paths.js';
import { childrenCpuMs } from './child-cpu.js';
import { cpuSince, cpuSnapshot } from './cpu-breakdown.js';
import { startCpuProfile } from './cpu-profile.js';
import { ingestProfileSummary } from './ingest-profile.js';
import { countRequests, dynamoClients } from './ingest-requests.js';
import { timeMethods, type StageTimes } from './stage-times.js';

const USER = 'bench';

export interface IngestRunOptions {
  analyzer: ImageAnalyzer;
  /** Folder of staged images (class folders inside), uploaded as is. */
  uploadDir: string;
  images: number;
  classes: string[];
  detect: boolean;
  ingestConcurrency: number;
  uploadConcurrency: number;
  /**
   * Let the in-process trainer retrain (and compact embedding shards) while ingest runs, as `npm start` does.
   * Default false: in the cloud the trainer is its own Lambda, so it is kept out of the ingest figures.
   */
  withTrainer?: boolean;
  /** Reset and recording from the first upload until ingest has finished, paused afterwards. */
  times: StageTimes;
  /** Called once the stack is up, just before the first upload (e.g. to read counters). */
  beforeUpload?: () => void;
  /** Write a CPU profile of the main thread over the measured phase to this file (.cpuprofile). */
  profileFile?: string;
  /** Run the ingest handler on the stack's main thread, as before it had a thread of its own (for comparison). */
  ingestInProcess?: boolean;
}

export interface IngestRunResult {
  project: string;
  ready: number;
  failed: number;
  pending: number;
  /**
   * Measured from the first store call after the uploader started (its project check through the API, a few ms
   * before its first PUT; the uploader's own Node start-up is left out): to the uploader finishing, and to the
   * last image finished.
   */
  uploadMs: number;
  endToEndMs: number;
  /** This process's CPU time over the run divided by wall time (2 = both cores busy). */
  cpuCores: number;
  /** CPU time of the stack's child processes (the emulators) over the run divided by wall time. */
  childCpuCores?: number;
  /** Share of the run the main JS thread was busy (the API, the emulators' events, the analyzer's JS; ingest's too when in process). */
  eventLoopUtilization: number;
  /** Share of the run the ingest thread's event loop was busy (its SDK clients and the handler), when it has one. */
  ingestThreadUtilization?: number;
  /** Storage requests the stack's SDK clients sent over the run, by service and operation. */
  requests: Record<string, number>;
  /** S3 writes by what they wrote, and the items DynamoDB batch writes carried. */
  requestDetail?: Record<string, number>;
  /** CPU ms over the run by process and thread kind (cpu-breakdown.ts), the uploader's own report included. */
  cpuByKind?: Record<string, number>;
  /** Main-thread CPU by component, when profiled. */
  mainThread?: { component: string; ms: number; share: number }[];
  failures: string[];
}

type Progress = { images: { pending: number; ready: number; failed: number } };

export async function runIngest(opts: IngestRunOptions): Promise<IngestRunResult> {
  const dataDir = await tempDir('bench-ingest');
  const failures: string[] = [];
  let stack: LocalStack | undefined;
  try {
    stack = await startLocalStack({
      port: 0,
      host: '127.0.0.1',
      dataDir,
      s3Port: 0,
      dynamoPort: 0,
      analyzer: opts.analyzer,
      ingestConcurrency: opts.ingestConcurrency,
      // The ingest thread counts its own requests and times its store calls (ingest-thread-probe.ts).
      ingestThread: opts.ingestInProcess ? false : { instrument: new URL('./ingest-thread-probe.ts', import.meta.url).href },
      // An hour: the run is over (and the stack closed, which cancels the timer) long before.
      ...(opts.withTrainer ? {} : { trainer: { afterMs: 3_600_000, everyLabels: Number.MAX_SAFE_INTEGER } }),
      log: (line) => {
        if (/failed|error/i.test(line)) failures.push(line);
      },
    });
    const target = await localTarget(dataDir, USER);
    const project = `bench-${opts.detect ? 'detect' : 'embed'}`;
    await createProject(target, project, opts.classes, opts.detect);

    // Counted while the stage times record: ingest's requests, not the bench's progress reads.
    const { clients } = stack.stores as AwsStores; // the local stack's stores are the AWS adapters
    const requests = countRequests({ s3: clients.s3, dynamodb: dynamoClients(clients) }, () => !opts.times.paused);
    timeMethods(stack.stores.blobs, 'store.s3', opts.times.record);
    timeMethods(stack.stores.samples, 'store.dynamodb', opts.times.record);
    timeMethods(stack.stores.projects, 'store.dynamodb', opts.times.record);
    opts.beforeUpload?.();
    const thread = stack.ingest.thread;
    await thread?.probe('start');
    opts.times.reset();
    opts.times.paused = false;

    const progress = showProgress(stack, opts.images);
    const profile = opts.profileFile ? await startCpuProfile() : undefined;
    const cpuBefore = process.cpuUsage();
    const childCpuBefore = childrenCpuMs();
    const kindsBefore = cpuSnapshot();
    const eluBefore = performance.eventLoopUtilization();
    const threadEluBefore = thread?.utilization();
    const measuredFrom = performance.now();
    const upload = await uploadInChild(dataDir, opts.uploadDir, project, opts.uploadConcurrency);
    if (upload.uploaded !== opts.images) throw new Error(`uploaded ${upload.uploaded} of ${opts.images} images: ${JSON.stringify(upload)}`);
    const finishedAt = await waitForIngest(stack, target, project, opts.images, opts.times);
    const cpu = process.cpuUsage(cpuBefore);
    const childCpuAfter = childrenCpuMs();
    const byKind = cpuSince(kindsBefore, cpuSnapshot());
    const elu = performance.eventLoopUtilization(eluBefore);
    const threadElu = threadEluBefore && thread?.utilization(threadEluBefore);
    const wallMs = performance.now() - measuredFrom;
    const cpuCores = (cpu.user + cpu.system) / 1000 / wallMs;
    const childCpuCores = childCpuBefore === undefined || childCpuAfter === undefined ? undefined : (childCpuAfter - childCpuBefore) / wallMs;
    const profiled = await profile?.stop(opts.profileFile!);
    clearInterval(progress);
    opts.times.paused = true; // from here on, store calls are the bench's own
    const onThread = await thread?.probe<ThreadFigures>('stop');
    for (const [stage, total] of Object.entries(onThread?.stages ?? {})) opts.times.add(stage, total);
    const threadFirst = onThread?.firstStartedAtEpochMs === undefined ? undefined : onThread.firstStartedAtEpochMs - performance.timeOrigin;
    const started = Math.min(opts.times.firstStartedAt ?? measuredFrom, threadFirst ?? Infinity);
    const { body } = await api<Progress>(target, 'GET', `/api/projects/${project}/progress`);
    return {
      project,
      ...body.images,
      uploadMs: upload.doneAt - started,
      endToEndMs: finishedAt - started,
      cpuCores,
      ...(childCpuCores === undefined ? {} : { childCpuCores }),
      eventLoopUtilization: elu.utilization,
      ...(threadElu ? { ingestThreadUtilization: threadElu.utilization } : {}),
      requests: sumCounts(requests.snapshot(), onThread?.requests),
      requestDetail: sumCounts(requests.detail(), onThread?.detail),
      ...(byKind ? { cpuByKind: { ...byKind, 'uploader (its own report)': upload.cpuMs } } : {}),
      ...(profiled ? { mainThread: ingestProfileSummary(profiled) } : {}),
      failures,
    };
  } finally {
    await stack?.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

type ThreadFigures = {
  requests: Record<string, number>;
  detail: Record<string, number>;
  stages: Record<string, { calls: number; ms: number }>;
  firstStartedAtEpochMs?: number;
};

function sumCounts(a: Record<string, number>, b: Record<string, number> = {}): Record<string, number> {
  const sum = { ...a };
  for (const [k, v] of Object.entries(b)) sum[k] = (sum[k] ?? 0) + v;
  return Object.fromEntries(Object.entries(sum).sort(([x], [y]) => (x < y ? -1 : 1)));
}

type ProjectBody = { project?: { version: number; detection?: { enabled?: boolean } }; message?: string };

/** POST, then PATCH if the created project did not keep the detection setting (older servers dropped it). */
async function createProject(target: Target, id: string, classes: string[], detect: boolean): Promise<void> {
  const detection = { enabled: detect };
  const created = await api<ProjectBody>(target, 'POST', '/api/projects', { id, classes, detection });
  if (created.status !== 201) throw new Error(`could not create project: HTTP ${created.status} ${created.body?.message ?? ''}`);
  if ((created.body.project?.detection?.enabled ?? false) === detect) return;
  const edited = await api<ProjectBody>(target, 'PATCH', `/api/projects/${id}`, { detection, version: created.body.project?.version });
  if (edited.body.project?.detection?.enabled !== detect) {
    throw new Error(`project ${id} did not keep detection.enabled=${detect}: HTTP ${edited.status} ${JSON.stringify(edited.body)}`);
  }
}

/**
 * Waits until every upload has a finished image record; returns the time the ingest queue last went idle.
 * The queue can be idle for a moment between uploads, so the image records decide when it is over.
 */
async function waitForIngest(
  stack: LocalStack,
  target: Target,
  project: string,
  images: number,
  times: StageTimes,
): Promise<number> {
  for (;;) {
    await stack.ingest.idle();
    const finishedAt = performance.now();
    times.paused = true; // the progress read is the bench's, not ingest's
    const { body } = await api<Progress>(target, 'GET', `/api/projects/${project}/progress`).finally(() => (times.paused = false));
    const { pending, ready, failed } = body.images;
    if (pending === 0 && ready + failed >= images && stack.ingest.size === 0) return finishedAt;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs upload-child.ts; resolves with its report and the time it finished. */
async function uploadInChild(dataDir: string, dir: string, project: string, concurrency: number) {
  const script = path.join(REPO_ROOT, 'test/bench/lib/upload-child.ts');
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', '--import', 'tsx', script, dataDir, dir, project, String(concurrency), USER],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((resolve, reject) => child.on('error', reject).on('close', resolve));
  const doneAt = performance.now();
  if (code !== 0) throw new Error(`uploader exited with code ${code}: ${out}`);
  const report = JSON.parse(out.trim().split('\n').pop()!) as { uploaded: number; failed: number; rejected: number; ms: number; cpuMs: number };
  return { ...report, doneAt };
}

function showProgress(stack: LocalStack, images: number): NodeJS.Timeout {
  const started = performance.now();
  return setInterval(() => {
    const { ready, failed } = stack.ingest.stats;
    const s = (performance.now() - started) / 1000;
    process.stderr.write(`ingest ${ready + failed}/${images} images, ${s.toFixed(0)} s\n`);
  }, 5000).unref();
}
