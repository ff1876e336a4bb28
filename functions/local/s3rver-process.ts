// s3rver in a child process for the local stack. In this process its per-request work (routing, signature check,
// bucket-config reads, MD5s and metadata files) took about a third of the event loop during ingest, ahead of the
// API and ingest's own calls; in a child it runs beside them. Its upload events come back over IPC and, as with
// the in-process emulator, an upload's event is in this process's hands before the PUT answers (the child holds
// the response until this side acknowledges it), so "uploaded" still means "queued for ingest".
//
// The child is plain JavaScript evaluated from a string (like the inference thread), so it starts without a
// TypeScript loader, and it exits when this process goes away (IPC disconnect, or the kill-on-exit guard).
// Requests are let in only when signed with the stack's credentials (emulator-guard.cjs).

import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { DEFAULT_BUCKET } from '../adapters/aws/schema.js';
import { SERVING_GC_FLAGS } from './node-flags.js';
import {
  DEFAULT_EMULATOR_CREDENTIALS,
  GUARD_PATH,
  httpEndpoint,
  killOnExit,
  s3rverBucketConfigs,
  stopChild,
  type EmulatorCredentials,
  type RunningEmulator,
  type S3EventSource,
} from './emulators.js';

const require = createRequire(import.meta.url);
const LOOPBACK = '127.0.0.1';

const CHILD_SOURCE = `
const { AsyncLocalStorage } = require('node:async_hooks');
const S3rver = require(process.env.WINNOW_S3RVER_PATH);
const { checkSigV4 } = require(process.env.WINNOW_GUARD_PATH);
const pendingAcks = new AsyncLocalStorage();
const acks = new Map();
let nextId = 1;

// Bucket configs (CORS, website) are read from disk and parsed on every request; only this process writes them.
function cacheSubresources(store) {
  const cache = new Map();
  const key = (bucket, object, type) => bucket + '\\0' + (object || '') + '\\0' + type;
  const get = store.getSubresource.bind(store);
  const put = store.putSubresource.bind(store);
  const del = store.deleteSubresource.bind(store);
  const delBucket = store.deleteBucket.bind(store);
  store.getSubresource = (bucket, object, type) => {
    const k = key(bucket, object, type);
    let hit = cache.get(k);
    if (!hit) {
      hit = get(bucket, object, type);
      cache.set(k, hit);
      hit.catch(() => cache.delete(k));
    }
    return hit;
  };
  store.putSubresource = async (bucket, object, resource) => { cache.clear(); try { return await put(bucket, object, resource); } finally { cache.clear(); } };
  store.deleteSubresource = async (...args) => { cache.clear(); try { return await del(...args); } finally { cache.clear(); } };
  store.deleteBucket = async (...args) => { cache.clear(); try { return await delBucket(...args); } finally { cache.clear(); } };
}

// s3rver's filesystem store hands every file operation to libuv's pool (another thread, and on this 2-core machine
// a context switch, for each stat, mkdir, open, write and close: some ten per PUT, one per request for the bucket
// check) and a new upload's bytes were read back from disk for its event. This process does nothing else, so the
// same files are written and read here with synchronous calls, in s3rver's layout (a stock s3rver reads them: see
// the etag below). A PUT with a declared size up to BUFFER_MAX is taken whole, written,
// and its bytes kept for its event (bodies); without a size, or larger, and for multipart uploads, s3rver's own
// code runs. The bucket check remembers buckets found until one is deleted.
const BUFFER_MAX = 16 * 1024 * 1024;
function fastStore(store, bodies, keepBody) {
  const fs = require('node:fs');
  const nodePath = require('node:path');
  const crypto = require('node:crypto');
  const { IncomingMessage } = require('node:http');
  const S3Object = require(nodePath.join(nodePath.dirname(process.env.WINNOW_S3RVER_PATH), 'models/object.js'));
  const put = store.putObject.bind(store);
  const getMetadata = store.getMetadata.bind(store);
  const getBucket = store.getBucket.bind(store);
  const deleteBucket = store.deleteBucket.bind(store);
  const buckets = new Map();
  store.getBucket = async (bucket) => {
    const known = buckets.get(bucket);
    if (known) return known;
    const found = await getBucket(bucket);
    if (found) buckets.set(bucket, found);
    return found;
  };
  store.deleteBucket = async (...args) => { buckets.clear(); try { return await deleteBucket(...args); } finally { buckets.clear(); } };
  const readAll = (stream) => new Promise((resolve, reject) => {
    const chunks = [];
    let ended = false;
    stream.on('data', (chunk) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('end', () => { ended = true; resolve(Buffer.concat(chunks)); });
    stream.on('close', () => { if (!ended) reject(Object.assign(new Error('request aborted'), { code: 'ECONNRESET' })); });
  });
  const write = (file, data) => {
    try {
      fs.writeFileSync(file, data);
    } catch (err) {
      if (err.code !== 'ENOENT') throw err;
      fs.mkdirSync(nodePath.dirname(file), { recursive: true });
      fs.writeFileSync(file, data);
    }
  };
  store.putObject = async (object) => {
    const declared = Number(object.metadata['content-length']);
    // Only a request's own body (a multipart upload's completion streams its parts, under the first request's size).
    const sized = object.content instanceof IncomingMessage && object.metadata['content-length'] !== undefined && declared <= BUFFER_MAX;
    if (!Buffer.isBuffer(object.content) && !sized) return put(object);
    const content = Buffer.isBuffer(object.content) ? object.content : await readAll(object.content);
    const md5 = crypto.createHash('md5').update(content).digest('hex');
    const metadata = {};
    for (const k of S3Object.ALLOWED_METADATA) if (object.metadata[k] !== undefined) metadata[k] = object.metadata[k];
    for (const k of Object.keys(object.metadata)) if (k.startsWith('x-amz-meta-')) metadata[k] = object.metadata[k];
    // The etag goes into metadata.json instead of a .md5 file of its own: on this disk each new file costs ~0.5 ms
    // of the kernel's CPU. s3rver's own reader takes the etag from .md5 and makes that file when it is missing, so
    // a stale one of an earlier version must go.
    metadata.etag = JSON.stringify(md5);
    write(store.getResourcePath(object.bucket, object.key, 'object'), content);
    write(store.getResourcePath(object.bucket, object.key, 'metadata.json'), JSON.stringify(metadata, null, 2));
    try {
      fs.unlinkSync(store.getResourcePath(object.bucket, object.key, 'object.md5'));
    } catch (err) {
      if (err.code !== 'ENOENT') throw err;
    }
    if (keepBody(object.key, content.length)) {
      if (bodies.size >= 256) bodies.clear(); // events that never came (none should be missing): never hold more
      bodies.set(object.bucket + '\\0' + object.key, { md5, content });
    }
    return { size: content.length, md5 };
  };
  store.getMetadata = async (bucket, key) => {
    const objectPath = store.getResourcePath(bucket, key, 'object');
    const stat = fs.statSync(objectPath); // throws ENOENT for a missing object, as s3rver's does
    let stored;
    try {
      stored = JSON.parse(fs.readFileSync(store.getResourcePath(bucket, key, 'metadata.json'), 'utf8'));
    } catch (err) {
      if (err.code !== 'ENOENT') throw err;
    }
    let etag = stored && stored.etag;
    if (typeof etag !== 'string') {
      try {
        etag = JSON.stringify(fs.readFileSync(objectPath + '.md5', 'utf8'));
      } catch (err) {
        if (err.code !== 'ENOENT') throw err;
        return getMetadata(bucket, key); // s3rver makes the missing .md5 file
      }
    }
    return { ...stored, etag, 'last-modified': stat.mtime.toUTCString(), 'content-length': stat.size };
  };
}

// Silent mode still formats every request (koa-logger, then winston's colorize/splat) before dropping the line.
function quiet(server) {
  server.middleware.shift(); // koa-logger, the first middleware s3rver installs
  const logger = server.logger;
  for (const level of ['error', 'warn', 'info', 'verbose', 'debug', 'silly', 'log']) logger[level] = () => logger;
}

process.on('message', async (msg) => {
  if (msg.type === 'ack') {
    acks.get(msg.id)?.();
    acks.delete(msg.id);
    return;
  }
  if (msg.type !== 'start') return;
  try {
    const { eventPrefixes, credentials, inlineBodyMax, ...options } = msg.options;
    const server = new S3rver(options);
    // s3rver's own account registry must know the key too (it only knows S3RVER): the only key it will know.
    const AWSAccount = require(require('node:path').join(require('node:path').dirname(process.env.WINNOW_S3RVER_PATH), 'models/account.js'));
    if (credentials.accessKeyId !== 'S3RVER') {
      AWSAccount.DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
      AWSAccount.DUMMY_ACCOUNT.createKeyPair(credentials.accessKeyId, credentials.secretAccessKey);
    }
    cacheSubresources(server.store);
    const bodies = new Map();
    const forwarded = (key) => !eventPrefixes || eventPrefixes.some((p) => typeof key === 'string' && key.startsWith(p));
    fastStore(server.store, bodies, (key, size) => inlineBodyMax > 0 && size <= inlineBodyMax && forwarded(key));
    quiet(server);
    // s3rver stores each key as a file path: a '.'/'..' segment would climb out of the bucket's folder, and a segment
    // longer than a file name may be (255 bytes, less s3rver's suffixes) throws ENAMETOOLONG out of its write stream
    // and would take this process down. Such keys are refused with an S3-style error instead.
    server.middleware.unshift(async (ctx, next) => {
      let decoded;
      try { decoded = decodeURIComponent(ctx.path); } catch { decoded = undefined; }
      const segments = decoded === undefined ? [] : decoded.split('/').slice(1);
      const [code, bad] = decoded === undefined ? ['InvalidURI', 'the path is not valid URL encoding']
        : segments.some((s) => s === '.' || s === '..') ? ['InvalidArgument', 'a key part may not be "." or ".." in the local S3 emulator']
        : segments.some((s) => Buffer.byteLength(s) > 233) ? ['KeyTooLongError', 'each "/"-separated part of a key may be at most 233 bytes in the local S3 emulator (it stores keys as file paths)']
        : [];
      if (!bad) return next();
      ctx.status = 400;
      ctx.type = 'application/xml';
      ctx.body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>' + code + '</Code><Message>' + bad.replace(/"/g, '&quot;') + '</Message></Error>';
    });
    // Outermost middleware: a request that emitted forwarded events answers once they are acknowledged.
    server.middleware.unshift(async (ctx, next) => {
      const waits = [];
      await pendingAcks.run(waits, next);
      if (waits.length) await Promise.all(waits);
    });
    // Outermost of all: s3rver checks no V4 signature and serves unsigned requests, so this does.
    server.middleware.unshift(async (ctx, next) => {
      const reason = checkSigV4({ method: ctx.method, url: ctx.req.url, headers: ctx.req.headers }, credentials);
      if (!reason) return next();
      ctx.status = 403;
      ctx.type = 'application/xml';
      ctx.body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>refused: ' + reason + '</Message></Error>';
    });
    server.on('event', (event) => {
      const record = event.Records && event.Records[0];
      const key = record && record.s3.object.key;
      const kept = record && bodies.get(record.s3.bucket.name + '\\0' + key);
      if (kept) bodies.delete(record.s3.bucket.name + '\\0' + key);
      if (!forwarded(key)) return;
      const id = nextId++;
      const waits = pendingAcks.getStore();
      if (waits) waits.push(new Promise((resolve) => acks.set(id, resolve)));
      // A new object's bytes go with its event (those the PUT just wrote, or read back from this process's disk,
      // checked against the event's MD5 etag), so that ingest need not GET them through the S3 API; any doubt, and
      // the event goes without.
      const object = record && record.s3.object;
      if (!inlineBodyMax || !object || !/^ObjectCreated/.test(record.eventName) || !(object.size <= inlineBodyMax)) {
        process.send({ type: 'event', id, event });
        return;
      }
      if (kept && kept.md5 === object.eTag && kept.content.length === object.size) {
        process.send({ type: 'event', id, event, body: kept.content });
        return;
      }
      require('node:fs').promises.readFile(server.store.getResourcePath(record.s3.bucket.name, key, 'object')).then(
        (body) => {
          const md5 = require('node:crypto').createHash('md5').update(body).digest('hex');
          process.send({ type: 'event', id, event, ...(md5 === object.eTag && body.length === object.size ? { body } : {}) });
        },
        () => process.send({ type: 'event', id, event }),
      );
    });
    const address = await server.run();
    process.send({ type: 'ready', port: address.port });
  } catch (err) {
    process.send({ type: 'failed', message: err && err.stack ? err.stack : String(err) });
  }
});
process.on('disconnect', () => process.exit(0));
`;

export interface S3rverProcessOptions {
  dir: string;
  /** 0 or absent: any free port. */
  port?: number;
  host?: string;
  bucket?: string;
  buckets?: string[];
  /** Forward only events for keys under these prefixes (default: all). */
  eventPrefixes?: string[];
  /** Every request must be signed with these (SigV4 header or presigned query); default the documented S3RVER pair. */
  credentials?: EmulatorCredentials;
  /** A new object up to this size comes with its bytes: `event` listeners get them as a second argument. Default 0: never. */
  inlineBodyMax?: number;
}

type ChildMessage =
  | { type: 'ready'; port: number }
  | { type: 'failed'; message: string }
  | { type: 'event'; id: number; event: unknown; body?: Uint8Array };

/** S3 (s3rver) in a child process; `events` emits `event` with S3 notification payloads, like the s3rver instance. */
export async function startS3rverProcess(opts: S3rverProcessOptions): Promise<RunningEmulator & { events: S3EventSource }> {
  const host = opts.host ?? LOOPBACK;
  const buckets = opts.buckets ?? [opts.bucket ?? DEFAULT_BUCKET];
  // Paginated ListObjectsV2 fails with a 500 under OpenSSL 3 without the legacy provider.
  const child = spawn(process.execPath, ['--openssl-legacy-provider', ...SERVING_GC_FLAGS, '-e', CHILD_SOURCE], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced', // bytes (inlineBodyMax) as bytes, not JSON
    env: { ...process.env, WINNOW_S3RVER_PATH: require.resolve('s3rver'), WINNOW_GUARD_PATH: GUARD_PATH },
  });
  const untrack = killOnExit(child);
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const events = new EventEmitter();
  const close = async () => {
    untrack();
    await stopChild(child);
  };

  const ready = new Promise<number>((resolve, reject) => {
    child.on('message', (msg: ChildMessage) => {
      if (msg.type === 'event') {
        // Listeners run synchronously (the pipeline queues the upload), then the child may answer the PUT.
        try {
          events.emit('event', msg.event, msg.body);
        } finally {
          if (child.connected) child.send({ type: 'ack', id: msg.id });
        }
      } else if (msg.type === 'ready') resolve(msg.port);
      else if (msg.type === 'failed') reject(new Error(msg.message));
    });
    child.once('exit', (code) => reject(new Error(`the process exited with code ${code}`)));
    child.once('error', reject);
  });
  child.send({
    type: 'start',
    options: {
      address: host,
      port: opts.port ?? 0,
      directory: opts.dir,
      silent: true,
      configureBuckets: s3rverBucketConfigs(buckets),
      eventPrefixes: opts.eventPrefixes,
      inlineBodyMax: opts.inlineBodyMax ?? 0,
      // Over IPC, not argv or the environment, so other users of the machine cannot read them.
      credentials: opts.credentials ?? DEFAULT_EMULATOR_CREDENTIALS,
    },
  });
  try {
    const port = await ready;
    return { endpoint: httpEndpoint(host, port), events, close };
  } catch (err) {
    await close();
    throw new Error(`s3rver did not start: ${(err as Error).message}\n${output}`);
  }
}
