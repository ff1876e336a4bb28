// In-memory BlobStore. Presigned URLs are `memory://` URLs that only this store can serve, through
// `fetchPresigned`, which enforces what S3 enforces: the operation, the expiry and the signed content type.

import { createHash, randomUUID } from 'node:crypto';
import type { BlobStore, Clock, Page, StoredObject } from '../../domain/ports.js';
import { PAGE_LIMITS, pageLimit } from '../paging.js';
import { pageAfter, sortByKey } from './page.js';

interface MemoryObject {
  body: Uint8Array;
  contentType: string;
  etag: string;
  lastModified: Date;
}

interface Grant {
  method: 'GET' | 'PUT';
  key: string;
  contentType?: string;
  expiresAt: number;
}

export class MemoryBlobStore implements BlobStore {
  private readonly objects = new Map<string, MemoryObject>();
  private readonly grants = new Map<string, Grant>();

  constructor(private readonly clock: Clock) {}

  async put(key: string, body: Uint8Array, contentType: string): Promise<{ etag: string }> {
    return { etag: this.store(key, body, contentType) };
  }

  async get(key: string): Promise<{ body: Uint8Array; contentType?: string; etag: string } | undefined> {
    const object = this.objects.get(key);
    return object && { body: object.body.slice(), contentType: object.contentType, etag: object.etag };
  }

  async head(key: string): Promise<StoredObject | undefined> {
    const object = this.objects.get(key);
    return object && { ...this.describe(key, object), contentType: object.contentType };
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }

  async deleteMany(keys: string[]): Promise<void> {
    for (const key of keys) this.objects.delete(key);
  }

  async list(prefix: string, opts: { cursor?: string; limit?: number } = {}): Promise<Page<StoredObject>> {
    const limit = pageLimit(opts.limit, PAGE_LIMITS.blobs);
    const keys = sortByKey([...this.objects.keys()].filter((k) => k.startsWith(prefix)), (k) => k);
    const page = pageAfter(keys, (k) => k, limit, opts.cursor);
    // Like ListObjectsV2, a listing carries no content type.
    return { ...page, items: page.items.map((k) => this.describe(k, this.objects.get(k) as MemoryObject)) };
  }

  async presignGet(key: string, ttlSeconds: number, opts: { contentType?: string } = {}): Promise<string> {
    return this.grant({ method: 'GET', key, expiresAt: this.clock.now() + ttlSeconds * 1000, ...(opts.contentType ? { contentType: opts.contentType } : {}) });
  }

  async presignPut(key: string, contentType: string, ttlSeconds: number): Promise<string> {
    return this.grant({ method: 'PUT', key, contentType, expiresAt: this.clock.now() + ttlSeconds * 1000 });
  }

  /** Serves a `memory://` presigned URL the way S3 serves a presigned one (status codes included). */
  async fetchPresigned(url: string, init: { method?: string; body?: Uint8Array; headers?: Record<string, string> } = {}): Promise<Response> {
    const token = new URL(url).searchParams.get('token') ?? '';
    const grant = this.grants.get(token);
    const method = (init.method ?? 'GET').toUpperCase();
    if (!grant || grant.method !== method) return new Response('SignatureDoesNotMatch', { status: 403 });
    if (this.clock.now() > grant.expiresAt) return new Response('Request has expired', { status: 403 });
    if (method === 'GET') {
      const object = this.objects.get(grant.key);
      if (!object) return new Response('NoSuchKey', { status: 404 });
      // A GET grant's content type is S3's response-content-type: it replaces the stored one.
      const contentType = grant.contentType ?? object.contentType;
      return new Response(object.body.slice(), { status: 200, headers: { 'content-type': contentType, etag: `"${object.etag}"` } });
    }
    const contentType = Object.entries(init.headers ?? {}).find(([h]) => h.toLowerCase() === 'content-type')?.[1];
    if (contentType !== grant.contentType) return new Response('SignatureDoesNotMatch', { status: 403 });
    const etag = this.store(grant.key, init.body ?? new Uint8Array(), grant.contentType ?? 'application/octet-stream');
    return new Response(null, { status: 200, headers: { etag: `"${etag}"` } });
  }

  private grant(grant: Grant): string {
    const token = randomUUID();
    this.grants.set(token, grant);
    return `memory://blobs/${encodeURIComponent(grant.key)}?token=${token}`;
  }

  private store(key: string, body: Uint8Array, contentType: string): string {
    // S3's ETag for a single-part upload is the MD5 of the bytes.
    const etag = createHash('md5').update(body).digest('hex');
    this.objects.set(key, { body: body.slice(), contentType, etag, lastModified: new Date(this.clock.now()) });
    return etag;
  }

  private describe(key: string, object: MemoryObject): StoredObject {
    return { key, bytes: object.body.byteLength, etag: object.etag, lastModified: new Date(object.lastModified) };
  }
}
