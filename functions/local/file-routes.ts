// `/files/<key>` on the local server's origin: objects read and uploaded through Winnow with a URL it signed itself
// (file-urls.ts), streamed to and from the S3 emulator on loopback. Nothing is buffered whole; an upload stops at its
// signed size limit. Refusals are JSON errors ({ code, message, requestId }) like the API's.

import { Readable, Transform } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { FILES_PATH, isServable, keyFromPath, type SignedFileUrls } from './file-urls.js';
import { createLogger, type Logger } from '../adapters/log.js';

export interface FileRoutesOptions {
  urls: SignedFileUrls;
  s3: S3Client;
  bucket: string;
  /** Default: readable lines on the console. */
  log?: Logger;
}

function refuse(c: Context, status: ContentfulStatusCode, code: string, message: string) {
  return c.json({ code, message, requestId: crypto.randomUUID() }, status);
}

/** The decoded key after `/files/`, from the raw path, or undefined. */
const keyOf = (url: string) => keyFromPath(new URL(url).pathname.slice(FILES_PATH.length + 1));

const missing = (err: unknown) =>
  (err as Error).name === 'NoSuchKey' || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404;

/** `attachment; filename="ascii"; filename*=UTF-8''utf8`: a name that cannot break out of the header. */
function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export function createFileRoutes(opts: FileRoutesOptions) {
  const app = new Hono();
  const log = opts.log ?? createLogger({ format: 'text' });
  // A failure on the emulator's side is still a JSON answer (the request id ties it to the server log).
  app.onError((err, c) => {
    const requestId = crypto.randomUUID();
    log.error(`${c.req.method} ${FILES_PATH}: ${(err as Error).message}`, { requestId });
    return c.json({ code: 'unavailable', message: 'the file store did not answer; try again (see the server log for this requestId)', requestId }, 503);
  });

  app.on(['GET', 'HEAD'], `${FILES_PATH}/*`, async (c) => {
    const key = keyOf(c.req.url);
    if (!key) return refuse(c, 400, 'bad_request', 'no object key in the file URL');
    const verdict = opts.urls.verify(c.req.method, key, new URL(c.req.url).searchParams);
    if (!verdict.ok) return refuse(c, 403, 'forbidden', verdict.reason);
    const { grant } = verdict;
    let out;
    try {
      out = await opts.s3.send(new GetObjectCommand({ Bucket: opts.bucket, Key: key }), { abortSignal: c.req.raw.signal });
    } catch (err) {
      if (missing(err)) return refuse(c, 404, 'not_found', 'no such file');
      throw err;
    }
    // Winnow decides the type: the signed one, else the stored one if it is harmless, else opaque bytes.
    const contentType = grant.contentType || (isServable(out.ContentType) ? out.ContentType! : 'application/octet-stream');
    const headers = new Headers({
      'content-type': contentType,
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; sandbox",
      'cache-control': `private, max-age=${Math.max(0, grant.expires - Math.floor(Date.now() / 1000))}`,
    });
    if (out.ContentLength !== undefined) headers.set('content-length', String(out.ContentLength));
    if (out.ETag) headers.set('etag', out.ETag);
    if (grant.downloadName !== undefined) headers.set('content-disposition', attachment(grant.downloadName));
    const body = out.Body as Readable | undefined;
    if (c.req.method === 'HEAD' || !body) {
      body?.destroy();
      return new Response(null, { status: 200, headers });
    }
    return new Response(Readable.toWeb(body) as ReadableStream, { status: 200, headers });
  });

  app.put(`${FILES_PATH}/*`, async (c) => {
    const key = keyOf(c.req.url);
    if (!key) return refuse(c, 400, 'bad_request', 'no object key in the file URL');
    const verdict = opts.urls.verify('PUT', key, new URL(c.req.url).searchParams);
    if (!verdict.ok) return refuse(c, 403, 'forbidden', verdict.reason);
    const { grant } = verdict;
    const sent = (c.req.header('content-type') ?? '').trim();
    if (sent !== grant.contentType) {
      return refuse(c, 403, 'forbidden', `this upload URL is for content-type ${grant.contentType}, not ${sent || 'none'}`);
    }
    const max = grant.maxBytes ?? 0;
    const declared = c.req.header('content-length');
    if (declared === undefined || !/^\d+$/.test(declared)) {
      return refuse(c, 411, 'bad_request', 'an upload needs a Content-Length header');
    }
    const length = Number(declared);
    if (length > max) return refuse(c, 413, 'payload_too_large', `the file has ${length} bytes; this upload URL takes at most ${max}`);
    if (length === 0) return refuse(c, 400, 'bad_request', 'empty upload');
    // Streamed to the emulator; a body longer than it declared is cut off (the emulator then refuses the upload).
    let seen = 0;
    const limit = new Transform({
      transform(chunk: Buffer, _enc, done) {
        seen += chunk.length;
        done(seen > length ? new Error('the body is longer than its Content-Length') : null, chunk);
      },
    });
    // The Node request itself where there is one (the web-stream copy of it does not hold back a fast sender).
    const incoming = (c.env as { incoming?: Readable } | undefined)?.incoming;
    const source = incoming ?? Readable.fromWeb(c.req.raw.body as import('node:stream/web').ReadableStream);
    const body = source.pipe(limit);
    try {
      const out = await opts.s3.send(
        new PutObjectCommand({ Bucket: opts.bucket, Key: key, Body: body, ContentLength: length, ContentType: grant.contentType }),
      );
      if (out.ETag) c.header('etag', out.ETag);
      return c.body(null, 200);
    } catch (err) {
      body.destroy();
      if (seen > length || (err as Error).message.includes('Content-Length')) {
        return refuse(c, 400, 'bad_request', 'the body does not match its Content-Length');
      }
      throw err;
    }
  });

  return app;
}
