// Presigned GET URLs at a tenth of getSignedUrl's CPU. getSignedUrl clones the S3 client's middleware stack and
// resolves the endpoint for every URL (~1 ms each, two per served sample); the URL's shape only depends on the
// bucket. So the SDK builds one URL per bucket (a probe), whose origin, path prefix and signing region are then
// reused, and each URL is just signed: the same SigV4 presigner getSignedUrl itself uses, with the client's
// credentials (refreshed as the client refreshes them). Keys outside a plain character set take the SDK's own path.

import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl, S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import { systemClock, type Clock } from '../../domain/ports.js';

const PROBE_KEY = 'winnow-presign-probe';
/** Keys whose URL path is the key itself: no character that S3 clients escape differently. */
const PLAIN_KEY = /^[A-Za-z0-9._~\-/]+$/;

interface BucketUrl {
  protocol: string;
  hostname: string;
  port?: number;
  /** Path before the key: `/bucket` (path style) or '' (virtual-hosted). */
  prefix: string;
  region: string;
}

export class GetUrlPresigner {
  private bucketUrl?: Promise<BucketUrl>;
  private readonly presigner: S3RequestPresigner;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    /** The signing time: a URL lives `ttlSeconds` from this clock's now. */
    private readonly clock: Clock = systemClock,
  ) {
    this.presigner = new S3RequestPresigner({ ...s3.config });
  }

  /** `contentType`: the Content-Type S3 answers with (response-content-type), whatever the object's own. */
  async presign(key: string, ttlSeconds: number, contentType?: string): Promise<string> {
    if (!PLAIN_KEY.test(key) || key.startsWith('/')) return this.sdkUrl(key, ttlSeconds, contentType);
    const at = await (this.bucketUrl ??= this.probe());
    const port = at.port === undefined ? '' : `:${at.port}`;
    const overrides: Record<string, string> = contentType === undefined ? {} : { 'response-content-type': contentType };
    const signed = await this.presigner.presign(
      { method: 'GET', protocol: at.protocol, hostname: at.hostname, port: at.port, path: `${at.prefix}/${key}`, query: overrides, headers: { host: `${at.hostname}${port}` } },
      { expiresIn: ttlSeconds, signingRegion: at.region, signingDate: new Date(this.clock.now()) },
    );
    const query = Object.entries(signed.query ?? {})
      .map(([name, value]) => `${escape(name)}=${escape(String(value))}`)
      .join('&');
    return `${at.protocol}//${at.hostname}${port}${signed.path}?${query}`;
  }

  private sdkUrl(key: string, ttlSeconds: number, contentType?: string): Promise<string> {
    const command = new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(contentType === undefined ? {} : { ResponseContentType: contentType }) });
    return getSignedUrl(this.s3, command, { expiresIn: ttlSeconds, signingDate: new Date(this.clock.now()) });
  }

  private async probe(): Promise<BucketUrl> {
    const url = new URL(await this.sdkUrl(PROBE_KEY, 60));
    if (!url.pathname.endsWith(`/${PROBE_KEY}`)) throw new Error(`unexpected presigned URL shape: ${url.origin}${url.pathname}`);
    // X-Amz-Credential = <key id>/<date>/<region>/s3/aws4_request
    const region = url.searchParams.get('X-Amz-Credential')?.split('/')[2];
    if (!region) throw new Error('presigned URL without a signing region');
    return {
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port ? Number(url.port) : undefined,
      prefix: url.pathname.slice(0, -(PROBE_KEY.length + 1)),
      region,
    };
  }
}

/** RFC 3986 escaping, as SigV4 canonicalizes query strings. */
const escape = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
