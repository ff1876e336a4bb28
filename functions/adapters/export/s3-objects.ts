// Export files on S3 (or s3rver): written as a multipart upload from a stream with bounded memory (lib-storage
// `Upload` holds at most `queueSize` parts of `partSize` bytes), read back in byte ranges (embedding shards), and
// handed out as presigned GETs that make the browser save the file under a sane name.

import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ExportObjects, ObjectSink } from '../../domain/interchange/export/ports.js';
import { getObjectBytes } from '../aws/get-object.js';
import { attachment } from '../aws/object-urls.js';

// S3 allows 10,000 parts, so the part size caps the object: 5 MiB parts (2 in flight + 1 filling = ~15 MiB held)
// allow 48 GiB, far beyond any annotation or embedding file; exports with images get 32 MiB parts, one in flight
// (~64 MiB held), for up to 312 GiB.
const PARTS = { small: { partSize: 5 * 1024 * 1024, queueSize: 2 }, large: { partSize: 32 * 1024 * 1024, queueSize: 1 } };

export class S3ExportObjects implements ExportObjects {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  create(key: string, contentType: string, opts: { large?: boolean } = {}): ObjectSink {
    const body = new PassThrough({ highWaterMark: 1024 * 1024 });
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: key, Body: body, ContentType: contentType },
      ...PARTS[opts.large ? 'large' : 'small'],
      leavePartsOnError: false,
    });
    const done = upload.done();
    // A failed upload must end a write waiting for 'drain' (which would never come), not leave it hanging.
    let failure: unknown;
    const failed = done.then(
      () => undefined,
      (err) => {
        failure = err;
        body.destroy();
      },
    );
    return {
      async write(chunk) {
        if (failure) throw failure;
        if (!body.write(chunk)) await Promise.race([once(body, 'drain'), failed]);
        if (failure) throw failure;
      },
      async close() {
        body.end();
        await done;
      },
      async abort() {
        await upload.abort().catch(() => undefined);
        body.destroy();
        await failed;
      },
    };
  }

  presignDownload(key: string, fileName: string, ttlSeconds: number): Promise<string> {
    return getSignedUrl(
      this.s3,
      new GetObjectCommand({ Bucket: this.bucket, Key: key, ResponseContentDisposition: attachment(fileName) }),
      { expiresIn: ttlSeconds },
    );
  }

  /** Bytes [start, end) of an object (fewer at its end), or undefined when the object is gone. */
  async readRange(key: string, start: number, end: number): Promise<Uint8Array | undefined> {
    if (end <= start) return new Uint8Array(0);
    try {
      return (await getObjectBytes(this.s3, { Bucket: this.bucket, Key: key, Range: `bytes=${start}-${end - 1}` })).body;
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if ((err as Error).name === 'NoSuchKey' || status === 404) return undefined;
      throw err;
    }
  }
}
