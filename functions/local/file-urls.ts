// Browser URLs for objects on the local stack: on the API's own origin (`/files/<key>?exp=&ct=&sig=`), short-lived
// and HMAC-signed with a secret of the data folder, verified by Winnow itself (file-routes.ts). The browser never
// reaches the S3 emulator, which stays on loopback behind its per-start credentials. The signature covers the
// method, the key, the expiry, the response content type (set by Winnow, never markup), the download name and the
// upload size limit: editing any of them voids it.
//
// This is the local adapter of the ObjectUrls port; in the cloud the S3 presigner plays the same part.

import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectUrls } from '../domain/ports.js';

/** Where the routes live on the API's origin. */
export const FILES_PATH = '/files';
/** The largest upload a signed PUT takes unless told otherwise (the upload grant's own limit). */
export const DEFAULT_MAX_UPLOAD_BYTES = 64 * 1024 * 1024;

/**
 * Content types Winnow answers with: images and export files. Never text/html, image/svg+xml or anything a browser
 * would run; an object whose stored type is not here is served as application/octet-stream.
 */
export const SERVABLE_TYPES = new Set([
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/gif',
  'image/tiff',
  'image/avif',
  'application/zip',
  'application/json',
  'application/x-ndjson',
  'application/jsonlines',
  'application/xml',
  'text/csv',
  'text/plain',
  'application/octet-stream',
]);

const baseType = (contentType: string) => contentType.split(';')[0].trim().toLowerCase();
export const isServable = (contentType: string | undefined) => contentType !== undefined && SERVABLE_TYPES.has(baseType(contentType));

/** What a verified URL allows. */
export interface FileGrant {
  method: 'GET' | 'PUT';
  key: string;
  /** Expiry, seconds since the epoch. */
  expires: number;
  /** GET: the Content-Type to answer with ('' = the object's own if servable). PUT: the Content-Type to send. */
  contentType: string;
  /** GET: save under this name (Content-Disposition: attachment). */
  downloadName?: string;
  /** PUT: the most bytes the body may have. */
  maxBytes?: number;
}

export type FileVerdict = { ok: true; grant: FileGrant } | { ok: false; reason: string };

/** Marks a key carried as base64url in one segment (see keyPath). */
const OPAQUE = '-';

/**
 * The key's URL path: each segment escaped, slashes kept. A key with a `.` or `..` segment (which URL parsing
 * would resolve away, in any spelling) travels as `-/<base64url>` instead, as does a key whose first segment is `-`.
 */
export function keyPath(key: string): string {
  const segments = key.split('/');
  if (segments[0] === OPAQUE || segments.some((s) => s === '.' || s === '..')) {
    return `${OPAQUE}/${Buffer.from(key).toString('base64url')}`;
  }
  return segments.map(encodeURIComponent).join('/');
}

/** The key from the raw URL path after `/files/` (keyPath's inverse), or undefined when it is not one. */
export function keyFromPath(raw: string): string | undefined {
  let key: string;
  try {
    if (raw.startsWith(`${OPAQUE}/`)) {
      const encoded = raw.slice(OPAQUE.length + 1);
      if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return undefined;
      key = Buffer.from(encoded, 'base64url').toString();
    } else {
      key = raw.split('/').map(decodeURIComponent).join('/');
    }
  } catch {
    return undefined;
  }
  return key || undefined;
}

export interface FileUrlsOptions {
  secret: Uint8Array;
  /** The public origin browsers use (known once the server listens, hence a function). */
  origin: () => string;
  now?: () => number;
  maxUploadBytes?: number;
}

export class SignedFileUrls implements ObjectUrls {
  private readonly now: () => number;
  private readonly maxUploadBytes: number;
  /** The secret as a key object once: Node makes one from raw bytes on every createHmac otherwise (~8x the HMAC). */
  private readonly key: KeyObject;

  constructor(private readonly opts: FileUrlsOptions) {
    if (opts.secret.byteLength < 32) throw new Error('the file URL secret must have at least 32 bytes');
    this.key = createSecretKey(opts.secret);
    this.now = opts.now ?? Date.now;
    this.maxUploadBytes = opts.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  }

  async getUrl(key: string, ttlSeconds: number, opts: { contentType?: string; downloadName?: string } = {}): Promise<string> {
    if (opts.contentType !== undefined && !isServable(opts.contentType)) {
      throw new Error(`refusing to serve ${key} as ${opts.contentType}`);
    }
    return this.url({ method: 'GET', key, expires: this.expiry(ttlSeconds), contentType: opts.contentType ?? '', downloadName: opts.downloadName });
  }

  async putUrl(key: string, contentType: string, ttlSeconds: number): Promise<string> {
    return this.url({ method: 'PUT', key, expires: this.expiry(ttlSeconds), contentType, maxBytes: this.maxUploadBytes });
  }

  /** Checks a request's method, key (decoded) and query against the signature. */
  verify(method: string, key: string, query: URLSearchParams): FileVerdict {
    const m = method === 'HEAD' ? 'GET' : method;
    if (m !== 'GET' && m !== 'PUT') return { ok: false, reason: `method ${method} is not allowed on files` };
    const sig = query.get('sig');
    const exp = query.get('exp');
    if (!sig || !exp) return { ok: false, reason: 'the file URL is not signed (exp and sig are required)' };
    if (!/^\d{1,12}$/.test(exp)) return { ok: false, reason: 'exp is not a time' };
    const max = query.get('max');
    if (max !== null && !/^\d{1,15}$/.test(max)) return { ok: false, reason: 'max is not a size' };
    const grant: FileGrant = {
      method: m,
      key,
      expires: Number(exp),
      contentType: query.get('ct') ?? '',
      ...(query.has('dl') ? { downloadName: query.get('dl')! } : {}),
      ...(max !== null ? { maxBytes: Number(max) } : {}),
    };
    const expected = this.sign(grant);
    const given = Buffer.from(sig, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { ok: false, reason: 'the file URL signature does not match (wrong method, or an edited key or parameter)' };
    }
    if (grant.expires * 1000 < this.now()) return { ok: false, reason: 'the file URL has expired; ask for a new one' };
    if (m === 'GET' && grant.contentType && !isServable(grant.contentType)) return { ok: false, reason: 'content type not servable' };
    return { ok: true, grant };
  }

  private expiry(ttlSeconds: number): number {
    return Math.floor(this.now() / 1000) + Math.max(1, Math.floor(ttlSeconds));
  }

  private url(grant: FileGrant): string {
    const query = new URLSearchParams({ exp: String(grant.expires) });
    if (grant.contentType) query.set('ct', grant.contentType);
    if (grant.downloadName !== undefined) query.set('dl', grant.downloadName);
    if (grant.maxBytes !== undefined) query.set('max', String(grant.maxBytes));
    query.set('sig', this.sign(grant).toString('base64url'));
    return `${this.opts.origin()}${FILES_PATH}/${keyPath(grant.key)}?${query}`;
  }

  private sign(g: FileGrant): Buffer {
    // Length-prefixed fields: no value can be shifted into its neighbour.
    const fields = ['winnow-file-v1', g.method, g.key, String(g.expires), g.contentType, g.downloadName ?? '\u0000', String(g.maxBytes ?? '')];
    return createHmac('sha256', this.key)
      .update(fields.map((f) => `${Buffer.byteLength(f)}:${f}`).join('\n'))
      .digest();
  }
}

/**
 * The data folder's file URL secret (`<dataDir>/auth/file-urls.key`, mode 0600), made on first use. Kept across
 * restarts so URLs handed out just before a restart still work until they expire.
 */
export async function loadOrCreateFileSecret(dataDir: string): Promise<Buffer> {
  const dir = path.join(dataDir, 'auth');
  const file = path.join(dir, 'file-urls.key');
  try {
    const existing = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64url');
    if (existing.length >= 32) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32);
  try {
    await writeFile(file, secret.toString('base64url'), { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (err) {
    // Another process made it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return Buffer.from((await readFile(file, 'utf8')).trim(), 'base64url');
    throw err;
  }
}
