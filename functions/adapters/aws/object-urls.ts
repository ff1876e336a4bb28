// ObjectUrls on S3 (the cloud's adapter): presigned S3 URLs, GETs through the fast presigner (presigner.ts), uploads
// with the Content-Type signed, downloads with Content-Disposition: attachment. The local stack uses Winnow-signed
// URLs on its own origin instead (functions/local/file-urls.ts); composition roots choose.

import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { systemClock, type Clock, type ObjectUrls } from '../../domain/ports.js';
import { GetUrlPresigner } from './presigner.js';

export class S3ObjectUrls implements ObjectUrls {
  private readonly gets: GetUrlPresigner;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    /** The signing time: a URL lives `ttlSeconds` from this clock's now. */
    private readonly clock: Clock = systemClock,
  ) {
    this.gets = new GetUrlPresigner(s3, bucket, clock);
  }

  getUrl(key: string, ttlSeconds: number, opts: { contentType?: string; downloadName?: string } = {}): Promise<string> {
    if (opts.downloadName === undefined) return this.gets.presign(key, ttlSeconds, opts.contentType);
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ResponseContentDisposition: attachment(opts.downloadName),
      ...(opts.contentType === undefined ? {} : { ResponseContentType: opts.contentType }),
    });
    return getSignedUrl(this.s3, command, { expiresIn: ttlSeconds, signingDate: new Date(this.clock.now()) });
  }

  /**
   * The uploader must send the same Content-Type header: it is signed (the presigner signs only `host` by default),
   * so a URL handed out for an image cannot be used to store, say, an HTML page.
   */
  putUrl(key: string, contentType: string, ttlSeconds: number): Promise<string> {
    return getSignedUrl(this.s3, new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentType: contentType }), {
      expiresIn: ttlSeconds,
      signingDate: new Date(this.clock.now()),
      signableHeaders: new Set(['content-type']),
    });
  }
}

/** `attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266 / 5987); the export adapter's downloads
 * use it too (here, so that the blob store does not load the export adapters). */
export function attachment(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}
