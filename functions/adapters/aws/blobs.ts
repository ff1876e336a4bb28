// BlobStore on S3 (or s3rver locally). The client must be built by `createS3Client` (clients.ts): without
// WHEN_REQUIRED checksums s3rver silently stores aws-chunked framing instead of the bytes.

import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { systemClock, type BlobStore, type Clock, type Page, type StoredObject } from '../../domain/ports.js';
import { PAGE_LIMITS, pageLimit } from '../paging.js';
import { getObjectBytes } from './get-object.js';
import { S3ObjectUrls } from './object-urls.js';

/** S3 quotes ETags; S3 event notifications (which ingest compares against) do not. */
const bareEtag = (etag: string | undefined) => (etag ?? '').replace(/^"|"$/g, '');

function isMissing(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return err.name === 'NoSuchKey' || err.name === 'NotFound' || status === 404;
}

export class S3BlobStore implements BlobStore {
  private readonly urls: S3ObjectUrls;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    /** When presigned URLs are signed (the stores' clock). */
    clock: Clock = systemClock,
  ) {
    this.urls = new S3ObjectUrls(s3, bucket, clock);
  }

  async put(key: string, body: Uint8Array, contentType: string): Promise<{ etag: string }> {
    const out = await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
    return { etag: bareEtag(out.ETag) };
  }

  async get(key: string): Promise<{ body: Uint8Array; contentType?: string; etag: string } | undefined> {
    try {
      const { out, body } = await getObjectBytes(this.s3, { Bucket: this.bucket, Key: key });
      return { body, contentType: out.ContentType, etag: bareEtag(out.ETag) };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async head(key: string): Promise<StoredObject | undefined> {
    try {
      const out = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { key, bytes: out.ContentLength ?? 0, etag: bareEtag(out.ETag), contentType: out.ContentType, lastModified: out.LastModified };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async deleteMany(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const out = await this.s3.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }),
      );
      const failed = out.Errors ?? [];
      if (failed.length > 0) throw new Error(`could not delete ${failed.length} object(s), e.g. ${failed[0].Key}: ${failed[0].Code} ${failed[0].Message ?? ''}`);
    }
  }

  async list(prefix: string, opts: { cursor?: string; limit?: number } = {}): Promise<Page<StoredObject>> {
    const out = await this.s3.send(
      new ListObjectsV2Command({
        Bucket: this.bucket,
        Prefix: prefix,
        MaxKeys: pageLimit(opts.limit, PAGE_LIMITS.blobs),
        ContinuationToken: opts.cursor,
      }),
    );
    const items = (out.Contents ?? []).map((o) => ({
      key: o.Key as string,
      bytes: o.Size ?? 0,
      etag: bareEtag(o.ETag),
      lastModified: o.LastModified,
    }));
    return out.IsTruncated && out.NextContinuationToken ? { items, cursor: out.NextContinuationToken } : { items };
  }

  /** Presigned S3 URLs: the same as the S3ObjectUrls adapter hands to browsers. */
  presignGet(key: string, ttlSeconds: number, opts: { contentType?: string } = {}): Promise<string> {
    return this.urls.getUrl(key, ttlSeconds, { contentType: opts.contentType });
  }

  presignPut(key: string, contentType: string, ttlSeconds: number): Promise<string> {
    return this.urls.putUrl(key, contentType, ttlSeconds);
  }
}
