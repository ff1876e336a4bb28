// Durability under crashes: the whole `npm start` server (functions/local/main.ts, as `npm start` runs it) is
// SIGKILLed and restarted several times while N labelers label through the HTTP API, and an import
// (`npm run winnow -- import`) is SIGKILLed mid-way and run again. Afterwards, read straight from the emulators:
// every acknowledged label must be stored, no sample leased to two labelers at once, no sample labeled twice, no
// image twice, and no process of a killed server left running (its emulator and trainer children).
//   npm run bench:chaos -- [--labelers 20] [--restarts 5] [--up-seconds 8] [--samples 3000] [--import-images 120]
//                          [--pause-ms 300] [--orphan-grace-seconds 10] [--port P] [--models DIR] [--out test-output/bench]
// Orphans are found among the server's children from before the kill, by a marker in the server's environment
// (every child inherits it) and by command lines that name the data folder or the ports. A process still running
// when the grace period after the kill ends is an orphan (those still running 2 s after it are counted apart); the
// bench then ends them by pid, so the next start is measured on its own.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { createAwsStores, destroyAwsClients, type AwsStores } from '../../functions/adapters/aws/clients.js';
import { DEFAULT_TABLE_NAMES } from '../../functions/adapters/aws/schema.js';
import type { Annotation, Sample } from '../../functions/domain/model.js';
import { killOnExit } from '../../functions/local/emulators.js';
import type { LocalStack } from '../../functions/local/stack.js';
import { createImageAnalyzer } from '../../functions/vision/analyzer.js';
import { allPages } from '../support/pages.js';
import { tempDir } from '../support/stack.js';
import type { LeaseRecord } from './lib/api-labelers.js';
import { seedProject } from './lib/api-seed.js';
import { checkLeases } from './lib/api-verify.js';
import { numberArg, parseArgs, stringArg } from './lib/args.js';
import { REPO_ROOT, sharedPath } from './lib/paths.js';
import { formatTable } from './lib/table.js';
import { SERVING_GC_FLAGS } from '../../functions/local/node-flags.js';

const args = parseArgs();
const config = {
  labelers: numberArg(args, 'labelers', 20),
  restarts: numberArg(args, 'restarts', 5),
  upSeconds: numberArg(args, 'up-seconds', 8),
  samples: numberArg(args, 'samples', 3000),
  importImages: numberArg(args, 'import-images', 120),
  pauseMs: numberArg(args, 'pause-ms', 300),
  orphanGraceMs: numberArg(args, 'orphan-grace-seconds', 10) * 1000,
  classes: 5,
};
const LEASE_MS = 10 * 60_000; // the API's default lease
const PROJECT = 'chaos';
const IMPORT_PROJECT = 'chaos-import';
const modelDir = path.resolve(stringArg(args, 'models') ?? sharedPath('models'));
const outDir = path.resolve(REPO_ROOT, stringArg(args, 'out') ?? 'test-output/bench');
const MARKER = `WINNOW_CHAOS_RUN=${process.pid}-${Date.now()}`;
const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

await mkdir(outDir, { recursive: true });
const dataDir = await tempDir('bench-chaos');
const port = stringArg(args, 'port') ? Number(stringArg(args, 'port')) : await freePortTriple();
const base = `http://127.0.0.1:${port}`;
const serverLog = createWriteStream(path.join(outDir, 'chaos-server.log'));

// ---------------------------------------------------------------- processes (Linux /proc)

interface Proc {
  pid: number;
  ppid: number;
  state: string;
  cmd: string;
  marked: boolean;
}

async function processes(): Promise<Proc[]> {
  const out: Proc[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = (await readFile(`/proc/${name}/cmdline`, 'utf8')).replace(/\0/g, ' ').trim();
      const environ = await readFile(`/proc/${name}/environ`, 'utf8').catch(() => '');
      out.push({ pid: Number(name), ppid: Number(rest[1]), state: rest[0], cmd, marked: environ.split('\0').includes(MARKER) });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return out;
}

/** Live processes of this run's servers other than `except`: by marker, or naming the data folder or the ports. */
async function leftovers(except: Set<number>): Promise<Proc[]> {
  const ports = [port, port + 1, port + 2].map(String);
  return (await processes()).filter(
    (p) =>
      p.pid !== process.pid &&
      !except.has(p.pid) &&
      p.state !== 'Z' &&
      (p.marked || p.cmd.includes(dataDir) || ports.some((n) => new RegExp(`--port[ =]${n}\\b|:${n}\\b`).test(p.cmd))),
  );
}

const describeProc = (p: Proc) => `${p.pid} ${p.cmd.replace(/\s+-e\s+[\s\S]*/, ' -e <script>').replace(/\S*\/node_modules\/(node\/bin\/)?/g, '').replace(REPO_ROOT + '/', '').slice(0, 100)}`;

// ---------------------------------------------------------------- the server, as `npm start` runs it

let server: ChildProcess | undefined;
const restartMs: number[] = [];
let failedStarts = 0;
const startFailures: string[] = [];

async function startServer(): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const t0 = performance.now();
    const child = spawn(
      process.execPath,
      ['--openssl-legacy-provider', ...SERVING_GC_FLAGS, '--import', 'tsx', path.join(REPO_ROOT, 'functions/local/main.ts'), '--port', String(port), '--data', dataDir, '--models', modelDir],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, [MARKER.split('=')[0]]: MARKER.split('=')[1], WINNOW_MODELS_FETCH: '0' } },
    );
    // Should this bench die (an error, Ctrl-C), the server goes with it; its emulators follow it (emulator-guard.cjs).
    killOnExit(child);
    let output = '';
    const keep = (chunk: Buffer) => {
      serverLog.write(chunk);
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    let exited = false;
    child.once('exit', () => (exited = true));
    while (!exited && performance.now() - t0 < 180_000) {
      const ok = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
      if (ok) {
        server = child;
        return performance.now() - t0;
      }
      await sleep(50);
    }
    failedStarts++;
    startFailures.push(output.trim().split('\n').slice(-3).join(' | '));
    if (!exited) child.kill('SIGKILL');
    if (attempt >= 5) throw new Error(`the server did not start in 5 attempts: ${startFailures.at(-1)}`);
    log(`start attempt ${attempt} failed: ${startFailures.at(-1)}; retrying`);
    await sleep(2000);
  }
}

interface KillReport {
  at: number;
  /** Still running when the grace period ended. */
  orphans: string[];
  /** Still running 2 s after the kill (they may have ended within the grace period). */
  lingered: string[];
}

/** SIGKILL the server alone (not its process group), then look for what it left running. */
async function killServer(): Promise<KillReport> {
  const child = server!;
  server = undefined;
  const before = await processes();
  const tree = new Set([child.pid!]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of before) {
      if (tree.has(p.ppid) && !tree.has(p.pid)) {
        tree.add(p.pid);
        grew = true;
      }
    }
  }
  tree.delete(child.pid!);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  // Its children from before the kill (same pid and command line) that still run, and anything marked as this run's;
  // a child may take a moment to notice (e.g. a trainer busy at idle priority), so they get a grace period.
  const killedAt = performance.now();
  let left: Proc[] = [];
  let lingered: Proc[] = [];
  do {
    await sleep(250);
    const now = await processes();
    const children = now.filter((p) => tree.has(p.pid) && p.state !== 'Z' && before.some((b) => b.pid === p.pid && b.cmd === p.cmd));
    left = [...children, ...(await leftovers(new Set(children.map((p) => p.pid))))];
    if (performance.now() - killedAt < 2000) lingered = left;
  } while (left.length && performance.now() - killedAt < config.orphanGraceMs);
  endAll(left); // so the next start is measured on its own
  return { at: Date.now(), orphans: left.map(describeProc), lingered: lingered.map(describeProc) };
}

function endAll(procs: Proc[]) {
  for (const p of procs) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function stopServer(): Promise<string[]> {
  const child = server!;
  server = undefined;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(30_000)]);
  await sleep(1000);
  const left = await leftovers(new Set());
  endAll(left);
  return left.map(describeProc);
}

async function storesOfRunningStack(): Promise<AwsStores> {
  const info = JSON.parse(await readFile(path.join(dataDir, 'stack.json'), 'utf8'));
  return createAwsStores({
    region: info.region,
    endpoints: { dynamodb: info.dynamoEndpoint, s3: info.s3Endpoint },
    credentials: info.credentials ?? { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    tables: DEFAULT_TABLE_NAMES,
    bucket: info.bucket,
  });
}

// ---------------------------------------------------------------- the import, killed mid-way and run again

const winnow = (cliArgs: string[]) =>
  spawn(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', path.join(REPO_ROOT, 'functions/cli/main.ts'), ...cliArgs], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });

async function importFolder(): Promise<Record<string, number | string>> {
  const flowers = sharedPath('datasets/tf_flowers_dev');
  const classes = (await readdir(flowers, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const dir = await tempDir('bench-chaos-import');
  const perClass = Math.ceil(config.importImages / classes.length);
  let files = 0;
  for (const c of classes) {
    const names = (await readdir(path.join(flowers, c))).filter((f) => f.endsWith('.jpg')).sort().slice(0, perClass);
    await mkdir(path.join(dir, c));
    for (const f of names) {
      if (files >= config.importImages) break;
      await writeFile(path.join(dir, c, f), await readFile(path.join(flowers, c, f)));
      files++;
    }
  }
  const cliArgs = ['import', dir, '--project', IMPORT_PROJECT, '--classes', classes.join(','), '--data', dataDir];
  const stores = await storesOfRunningStack();
  const uploaded = async () => (await stores.blobs.list(`uploads/${IMPORT_PROJECT}/`, { limit: 1000 })).items.length;
  const first = winnow(cliArgs);
  first.stdout!.resume();
  first.stderr!.resume();
  const firstExit = new Promise<number | null>((r) => first.once('exit', (code) => r(code)));
  let killedAt = -1;
  for (;;) {
    const n = await uploaded();
    if (n >= files * 0.3) {
      first.kill('SIGKILL');
      killedAt = n;
      break;
    }
    if ((await Promise.race([firstExit.then(() => true), sleep(100).then(() => false)])) === true) break;
  }
  await firstExit;
  const t0 = performance.now();
  const second = winnow(cliArgs);
  let out = '';
  second.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  second.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => second.once('exit', (c) => r(c)));
  const rerunMs = performance.now() - t0;
  const summary = /uploaded (\d+), unchanged (\d+), skipped (\d+), failed (\d+)/.exec(out);
  const images = await allPages((cursor) => stores.samples.listImages(IMPORT_PROJECT, { cursor, limit: 1000 }));
  const samples = await allPages((cursor) => stores.samples.listSamples(IMPORT_PROJECT, { cursor, limit: 1000 }));
  const keys = new Set(images.map((i) => i.key));
  const perImage = new Map<string, number>();
  for (const s of samples) if (s.kind === 'image') perImage.set(s.imageId, (perImage.get(s.imageId) ?? 0) + 1);
  destroyAwsClients(stores.clients);
  await rm(dir, { recursive: true, force: true });
  return {
    files,
    uploadedBeforeKill: killedAt,
    rerunExit: code ?? 'signal',
    rerunUploaded: Number(summary?.[1] ?? -1),
    rerunUnchanged: Number(summary?.[2] ?? -1),
    rerunFailed: Number(summary?.[4] ?? -1),
    rerunSeconds: Math.round(rerunMs / 100) / 10,
    images: images.length,
    ready: images.filter((i) => i.status === 'ready').length,
    duplicateImages: images.length - keys.size + [...perImage.values()].filter((n) => n > 1).length,
    missingImages: files - keys.size,
  };
}

// ---------------------------------------------------------------- labelers through the HTTP API

interface Ack {
  labeler: string;
  sampleId: string;
  requestId: string;
}

const leases: LeaseRecord[] = [];
const acks: Ack[] = [];
const rejected = new Map<string, { count: number; example: string }>();
const foreign: string[] = [];
let transportErrors = 0;
let stopping = false;

async function call(labeler: string, method: string, route: string, body?: unknown): Promise<{ status: number; json: any } | undefined> {
  try {
    const res = await fetch(`${base}${route}`, {
      method,
      headers: { 'x-winnow-user': labeler, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    return { status: res.status, json: text.startsWith('{') ? JSON.parse(text) : text };
  } catch {
    transportErrors++;
    return undefined; // the server is down (or restarting): the caller tries again
  }
}

function reject(what: string, status: number, body: unknown) {
  const key = `${what} ${status}`;
  const entry = rejected.get(key) ?? { count: 0, example: JSON.stringify(body).slice(0, 200) };
  entry.count++;
  rejected.set(key, entry);
}

async function labeler(name: string) {
  let seq = 0;
  while (!stopping) {
    const next = await call(name, 'GET', `/api/projects/${PROJECT}/next?count=1`);
    if (!next || next.status >= 500) {
      await sleep(200);
      continue;
    }
    if (next.status !== 200) {
      reject('next', next.status, next.json);
      await sleep(500);
      continue;
    }
    const served = next.json.samples?.[0]?.sample as (Sample & { lease?: { labelerId: string; until: number } }) | undefined;
    if (!served) {
      await sleep(500);
      continue;
    }
    if (served.lease && served.lease.labelerId !== name) foreign.push(`${name} was served ${served.sampleId} leased to ${served.lease.labelerId}`);
    const lease: LeaseRecord = { labeler: name, sampleId: served.sampleId, version: served.version, until: served.lease?.until ?? 0, servedAt: Date.now() };
    leases.push(lease);
    await sleep(config.pauseMs * (0.5 + Math.random())); // looking at the image
    const body = { version: served.version, requestId: `${name}-${process.pid}-${++seq}`, classIndex: Math.floor(Math.random() * config.classes) };
    // The same request again until the server answers: a retried label must be stored once (requestId).
    for (let tries = 0; ; tries++) {
      const res = await call(name, 'POST', `/api/projects/${PROJECT}/samples/${encodeURIComponent(served.sampleId)}/annotations`, body);
      if (!res || res.status >= 500) {
        if (stopping && tries > 50) break;
        await sleep(200);
        continue;
      }
      lease.annotatedAt = Date.now();
      lease.annotateStatus = res.status === 200 ? 201 : res.status; // 200 = a replay of a label the server already stored
      if (res.status === 201 || res.status === 200) acks.push({ labeler: name, sampleId: served.sampleId, requestId: body.requestId });
      else reject('annotate', res.status, res.json);
      break;
    }
  }
}

// ---------------------------------------------------------------- the run

log(`data ${dataDir}, port ${port}; server output in ${path.relative(REPO_ROOT, path.join(outDir, 'chaos-server.log'))}`);
const coldMs = await startServer();
log(`cold start ${Math.round(coldMs)} ms`);

const analyzer = await createImageAnalyzer({ modelDir });
const embedder = analyzer.embedder;
if (!embedder) throw new Error(`the embedder is missing in ${modelDir}`);
{
  const stores = await storesOfRunningStack();
  const classes = Array.from({ length: config.classes }, (_, i) => `class${i}`);
  await seedProject({ url: base, stores } as unknown as LocalStack, { projectId: PROJECT, classes, samples: config.samples, embedder: embedder.name, dims: embedder.dims, admin: 'chaos-admin' });
  destroyAwsClients(stores.clients);
}
log(`seeded ${config.samples} samples; import of ${config.importImages} images, killed at 30 % and run again`);
const imported = await importFolder();
log(`import: ${JSON.stringify(imported)}`);

log(`${config.labelers} labelers; the server SIGKILLed every ${config.upSeconds} s, ${config.restarts} times`);
const labelerRuns = Array.from({ length: config.labelers }, (_, i) => labeler(`labeler-${String(i + 1).padStart(2, '0')}`));
const kills: (KillReport & { restartMs: number })[] = [];
const t0 = performance.now();
for (let i = 0; i < config.restarts; i++) {
  await sleep(config.upSeconds * 1000);
  const acked = acks.length;
  const report = await killServer();
  const ms = await startServer();
  restartMs.push(ms);
  kills.push({ ...report, restartMs: ms });
  const lingered = report.lingered.length ? `; still running 2 s after the kill: ${report.lingered.join('; ')}` : '';
  log(`kill ${i + 1}: ${acked} labels acknowledged so far; ${report.orphans.length} orphan(s)${report.orphans.length ? `: ${report.orphans.join('; ')}` : ''}${lingered}; restarted in ${Math.round(ms)} ms`);
}
await sleep(config.upSeconds * 1000);
stopping = true;
await Promise.all(labelerRuns);
const labelSeconds = (performance.now() - t0) / 1000;

// Verify against what is stored, read from the emulators directly, after the server's progress route (which answers
// once every label it acknowledged has reached its sample head) so that a label still completing is not miscounted.
const progress = (await (await fetch(`${base}/api/projects/${PROJECT}/progress`, { headers: { 'x-winnow-user': 'chaos-admin' } })).json()) as { labeled: number };
const stores = await storesOfRunningStack();
const annotations = await allPages<Annotation>((cursor) => stores.annotations.listForProject(PROJECT, { cursor, limit: 1000 }));
const labels = annotations.filter((a) => a.kind === 'label');
const stored = new Set(labels.map((a) => `${a.sampleId}|${a.labelerId}`));
const lost = acks.filter((a) => !stored.has(`${a.sampleId}|${a.labeler}`));
// ...and on the sample's head: the label a labeler sees in the gallery, the exports and the counts.
const heads = new Map((await stores.samples.getSamples(PROJECT, [...new Set(acks.map((a) => a.sampleId))])).map((h) => [h.sampleId, h]));
destroyAwsClients(stores.clients);
const notOnHead = acks.filter((a) => !heads.get(a.sampleId)?.labeledBy.includes(a.labeler));
const perSample = new Map<string, number>();
for (const a of labels) perSample.set(a.sampleId, (perSample.get(a.sampleId) ?? 0) + 1);
const labeledTwice = [...perSample.values()].filter((n) => n > 1).length;
const leaseCheck = checkLeases(leases, LEASE_MS);
const orphansAtStop = await stopServer();
serverLog.end();
const orphansAfterKills = kills.reduce((n, k) => n + k.orphans.length, 0);
const lingeredAfterKills = kills.reduce((n, k) => n + k.lingered.length, 0);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const ms = (x: number) => `${Math.round(x)} ms`;
const rows: (string | number)[][] = [
  ['labels acknowledged (201, or 200 for a replay)', acks.length, ''],
  ['labels found in the store', labels.length, ''],
  ['acknowledged labels lost', lost.length, '0'],
  ["acknowledged labels not on their sample's head", notOnHead.length, '0'],
  ['labeled samples: progress route / in the store', `${progress.labeled} / ${perSample.size}`, 'equal'],
  ['double leases (one sample, two labelers, overlapping)', leaseCheck.overlaps.length, '0'],
  ['samples served leased to someone else', foreign.length, '0'],
  ['duplicate annotations (samples labeled twice)', labeledTwice, '0'],
  ['import: files / images / ready', `${imported.files} / ${imported.images} / ${imported.ready}`, ''],
  ['import: uploaded before kill / on re-run / unchanged', `${imported.uploadedBeforeKill} / ${imported.rerunUploaded} / ${imported.rerunUnchanged}`, ''],
  ['import: duplicate images / missing images', `${imported.duplicateImages} / ${imported.missingImages}`, '0 / 0'],
  [`orphaned processes ${config.orphanGraceMs / 1000} s after SIGKILLs (total)`, orphansAfterKills, '0'],
  ['children still running 2 s after SIGKILLs (total)', lingeredAfterKills, ''],
  ['orphaned processes after a graceful stop', orphansAtStop.length, '0'],
  ['server starts that failed (e.g. port held)', failedStarts, '0'],
  ['cold start (first, incl. web build check)', ms(coldMs), ''],
  ['restart after SIGKILL: min / median / max', `${ms(Math.min(...restartMs))} / ${ms(median(restartMs))} / ${ms(Math.max(...restartMs))}`, ''],
  ['labeling time / transport errors while down', `${Math.round(labelSeconds)} s / ${transportErrors}`, ''],
];
console.log(`\nbench:chaos  ${config.labelers} labelers, ${config.restarts} SIGKILL + restart of the server (every ${config.upSeconds} s), import killed at 30 %\n`);
console.log(formatTable(['', 'measured', 'target'], rows));
if (rejected.size) console.log(`\nrejected requests: ${[...rejected].map(([k, v]) => `${k} x${v.count} (${v.example})`).join('; ')}`);
for (const [i, k] of kills.entries()) {
  if (k.orphans.length) console.log(`kill ${i + 1} left: ${k.orphans.join('; ')}`);
  else if (k.lingered.length) console.log(`kill ${i + 1}: ended within the grace period: ${k.lingered.join('; ')}`);
}
if (orphansAtStop.length) console.log(`after stop: ${orphansAtStop.join('; ')}`);
if (lost.length) console.log(`lost: ${lost.slice(0, 10).map((a) => `${a.sampleId} by ${a.labeler}`).join(', ')}`);
if (notOnHead.length) console.log(`not on their head: ${notOnHead.slice(0, 10).map((a) => `${a.sampleId} by ${a.labeler}`).join(', ')}`);
if (leaseCheck.overlaps.length) console.log(`double leases: ${leaseCheck.overlaps.slice(0, 10).map((o) => `${o.sampleId} ${o.a}/${o.b}`).join(', ')}`);
if (startFailures.length) console.log(`failed starts: ${startFailures.join(' || ')}`);

const json = {
  config: { ...config, port },
  labels: { acknowledged: acks.length, found: labels.length, lost: lost.length, notOnHead: notOnHead.length, progressLabeled: progress.labeled, doubleLeases: leaseCheck.overlaps.length, servedLeasedToOthers: foreign.length, labeledTwice },
  import: imported,
  orphans: { graceSeconds: config.orphanGraceMs / 1000, afterKills: orphansAfterKills, perKill: kills.map((k) => k.orphans), lingeredAfter2s: kills.map((k) => k.lingered), afterStop: orphansAtStop },
  starts: { coldMs: Math.round(coldMs), restartMs: restartMs.map(Math.round), failed: failedStarts, failures: startFailures },
  rejected: Object.fromEntries(rejected),
  transportErrors,
};
await writeFile(path.join(outDir, 'chaos.json'), `${JSON.stringify(json, null, 2)}\n`);
log(`wrote ${path.relative(REPO_ROOT, path.join(outDir, 'chaos.json'))}`);
await rm(dataDir, { recursive: true, force: true });
const ok = lost.length === 0 && notOnHead.length === 0 && progress.labeled === perSample.size && leaseCheck.overlaps.length === 0 && labeledTwice === 0 && orphansAfterKills === 0 && orphansAtStop.length === 0 && imported.duplicateImages === 0 && imported.missingImages === 0;
process.exit(ok ? 0 : 1);

/** A port P with P+1 and P+2 free too (the server's default emulator ports). */
async function freePortTriple(): Promise<number> {
  const free = (p: number) =>
    new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(p, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  for (let tries = 0; tries < 50; tries++) {
    const p = 20_000 + Math.floor(Math.random() * 30_000);
    if ((await free(p)) && (await free(p + 1)) && (await free(p + 2))) return p;
  }
  throw new Error('no three consecutive free ports found');
}
