// The local stack's two signature checks, without a server: Winnow's own file URLs (every signed field is covered,
// any key round-trips through the URL) and the emulators' SigV4 guard against requests the AWS SDK really signs.

import { createRequire } from 'node:module';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFileRoutes } from '../../functions/local/file-routes.js';
import { FILES_PATH, keyFromPath, SignedFileUrls } from '../../functions/local/file-urls.js';

const require = createRequire(import.meta.url);
const { checkSigV4, sha256Hex } = require('../../functions/local/emulator-guard.cjs') as {
  checkSigV4: (req: { method: string; url: string; headers: Record<string, string>; payloadHash?: string }, creds: { accessKeyId: string; secretAccessKey: string }, now?: number) => string | undefined;
  sha256Hex: (s: string | Uint8Array) => string;
};

const ORIGIN = 'http://192.0.2.2:8787';
const T0 = Date.UTC(2026, 11, 6, 8, 0, 0);

function verifyUrl(urls: SignedFileUrls, method: string, url: string) {
  const u = new URL(url);
  const key = keyFromPath(u.pathname.slice(FILES_PATH.length + 1));
  return key === undefined ? { ok: false as const, reason: 'no key' } : urls.verify(method, key, u.searchParams);
}

describe('signed file URLs', () => {
  let now = T0;
  const urls = new SignedFileUrls({ secret: new Uint8Array(32).fill(7), origin: () => ORIGIN, now: () => now });

  it('are on the public origin and carry method, key, expiry, content type, download name and size limit', async () => {
    const get = await urls.getUrl('derived/p/img/display', 900, { contentType: 'image/webp' });
    expect(get.startsWith(`${ORIGIN}/files/derived/p/img/display?`)).toBe(true);
    expect(verifyUrl(urls, 'GET', get)).toMatchObject({ ok: true, grant: { contentType: 'image/webp', key: 'derived/p/img/display' } });
    expect(verifyUrl(urls, 'HEAD', get).ok).toBe(true);
    expect(verifyUrl(urls, 'PUT', get).ok).toBe(false);

    const put = await urls.putUrl('uploads/p/a.jpg', 'image/jpeg', 900);
    expect(verifyUrl(urls, 'PUT', put)).toMatchObject({ ok: true, grant: { maxBytes: 64 * 1024 * 1024 } });
    expect(verifyUrl(urls, 'GET', put).ok).toBe(false);

    const download = await urls.getUrl('exports/p/e/x.zip', 900, { downloadName: 'p-coco.zip' });
    expect(verifyUrl(urls, 'GET', download)).toMatchObject({ ok: true, grant: { downloadName: 'p-coco.zip' } });

    for (const [url, method] of [[get, 'GET'], [put, 'PUT'], [download, 'GET']] as const) {
      for (const [name, value] of [['ct', 'text/html'], ['exp', '99999999999'], ['max', '1'], ['dl', 'x.html'], ['sig', 'AAAA']]) {
        const edited = new URL(url);
        edited.searchParams.set(name, value);
        expect(verifyUrl(urls, method, edited.toString()).ok, `${method} ${name}`).toBe(false);
        const removed = new URL(url);
        removed.searchParams.delete(name);
        if (url.includes(`${name}=`)) expect(verifyUrl(urls, method, removed.toString()).ok, `${method} without ${name}`).toBe(false);
      }
      const otherKey = new URL(url);
      otherKey.pathname += 'x';
      expect(verifyUrl(urls, method, otherKey.toString()).ok).toBe(false);
    }
  });

  it('expire, and are never made for markup types', async () => {
    const get = await urls.getUrl('uploads/p/a.png', 60, { contentType: 'image/png' });
    now = T0 + 61_000;
    expect(verifyUrl(urls, 'GET', get)).toMatchObject({ ok: false, reason: expect.stringMatching(/expired/) });
    now = T0;
    await expect(urls.getUrl('uploads/p/a.svg', 60, { contentType: 'image/svg+xml' })).rejects.toThrow(/refusing/);
    await expect(urls.getUrl('uploads/p/a.html', 60, { contentType: 'text/html' })).rejects.toThrow(/refusing/);
  });

  it('carry any key through the URL unchanged, dot segments and all', async () => {
    const keys = ['uploads/p/../../etc/passwd.png', 'uploads/p/./a.jpg', '-/x', 'uploads/p/100% off #1?&;+ é.png', 'uploads/p//a.jpg'];
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.constantFrom(...keys), fc.string({ minLength: 1, maxLength: 80 }), fc.array(fc.constantFrom('.', '..', 'a', '%', ' ', '-', ''), { minLength: 1, maxLength: 6 }).map((p) => p.join('/'))), async (key) => {
        fc.pre(key.length > 0);
        const url = await urls.getUrl(key, 60);
        const parsed = new URL(url); // as a browser resolves it
        const back = keyFromPath(parsed.pathname.slice(FILES_PATH.length + 1));
        expect(back).toBe(key);
        expect(verifyUrl(urls, 'GET', url).ok).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('the /files routes', () => {
  it('answer in JSON when refusing and when the file store is down', async () => {
    const urls = new SignedFileUrls({ secret: new Uint8Array(32).fill(3), origin: () => ORIGIN });
    const s3 = new S3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', forcePathStyle: true, credentials: { accessKeyId: 'k', secretAccessKey: 's' }, maxAttempts: 1 });
    const app = createFileRoutes({ urls, s3, bucket: 'b' });
    const url = await urls.getUrl('uploads/p/a.jpg', 60, { contentType: 'image/jpeg' });
    const forged = await app.request(url.replace(/sig=[^&]+/, 'sig=AAAA'));
    expect(forged.status).toBe(403);
    expect(await forged.json()).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/signature/) });
    const down = await app.request(url);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ code: 'unavailable', requestId: expect.any(String) });
    s3.destroy();
  });
});

describe("the emulators' SigV4 guard", () => {
  const creds = { accessKeyId: 'WINNOWKEY', secretAccessKey: 'per-start-secret' };
  type Sent = { headers: Record<string, string>; body: string };

  /** The request the DynamoDB client really sends (signed), caught before it leaves. */
  async function signedBy(credentials: typeof creds, limit = 10): Promise<Sent> {
    const client = new DynamoDBClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:8789', credentials, maxAttempts: 1 });
    let sent: Sent | undefined;
    client.middlewareStack.add(
      () => async (args) => {
        const req = args.request as { headers: Record<string, string>; body: string | Uint8Array };
        sent = { headers: lower(req.headers), body: Buffer.from(req.body).toString() };
        throw new Error('caught');
      },
      { step: 'deserialize', priority: 'low' },
    );
    await client.send(new ListTablesCommand({ Limit: limit })).catch(() => undefined);
    client.destroy();
    return sent!;
  }
  const asSeen = (sent: Sent, body = sent.body) => ({ method: 'POST', url: '/', headers: sent.headers, payloadHash: sha256Hex(body) });

  it('lets in what the SDK signs with the right keys, and nothing edited, unsigned or foreign', async () => {
    const sent = await signedBy(creds);
    expect(checkSigV4(asSeen(sent), creds)).toBeUndefined();
    expect(sent.body).toContain('10');
    expect(checkSigV4(asSeen(sent, sent.body.replace('10', '11')), creds)).toMatch(/body does not match/);
    expect(checkSigV4(asSeen({ ...sent, headers: { ...sent.headers, 'x-amz-target': 'DynamoDB_20120810.DeleteTable' } }), creds)).toMatch(/does not match/);
    // The same body with its hash header edited to match: the signature no longer does.
    const tampered = sent.body.replace('10', '11');
    expect(checkSigV4(asSeen({ ...sent, headers: { ...sent.headers, 'x-amz-content-sha256': sha256Hex(tampered) } }, tampered), creds)).toMatch(/signature does not match/);
    const { authorization: _, ...unsigned } = sent.headers;
    expect(checkSigV4(asSeen({ ...sent, headers: unsigned }), creds)).toMatch(/not signed/);
    expect(checkSigV4(asSeen(sent), creds, Date.now() + 16 * 60_000)).toMatch(/too far/);
    expect(checkSigV4(asSeen(await signedBy({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' })), creds)).toMatch(/unknown access key/);
    expect(checkSigV4(asSeen(await signedBy({ ...creds, secretAccessKey: 'guess' })), creds)).toMatch(/does not match/);
  });

  it('checks presigned S3 URLs, including the response overrides and the expiry', async () => {
    const s3 = new S3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:8788', forcePathStyle: true, credentials: creds });
    const full = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'winnow-local', Key: 'uploads/p/a b%.jpg', ResponseContentType: 'image/jpeg' }), { expiresIn: 60 });
    s3.destroy();
    const url = full.slice(full.indexOf('/', 'http://'.length));
    const seen = (u: string, at = Date.now()) => checkSigV4({ method: 'GET', url: u, headers: { host: '127.0.0.1:8788' } }, creds, at);
    expect(seen(url)).toBeUndefined();
    expect(url).toContain('image%2Fjpeg');
    expect(seen(url.replace('image%2Fjpeg', 'text%2Fhtml'))).toMatch(/does not match/);
    expect(seen(url.replace('a%20b', 'a%20c'))).toMatch(/does not match/);
    expect(seen(url.replace(/X-Amz-Signature=[0-9a-f]+/, `X-Amz-Signature=${'f'.repeat(64)}`))).toMatch(/does not match/);
    expect(seen(url, Date.now() + 61_000)).toMatch(/expired/);
    expect(seen('/winnow-local/uploads/p/a.jpg')).toMatch(/not signed/);
  });
});

const lower = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
