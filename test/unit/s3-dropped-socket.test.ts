// The S3 adapter over a connection that drops: a real HTTP server on loopback plays S3 and cuts chosen responses
// (before any byte, or halfway through the body, as s3rver does now and then under load). A read that a second try
// would serve is served; one that keeps failing fails after a bounded number of tries, naming the object.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { S3BlobStore } from '../../functions/adapters/aws/blobs.js';
import { createS3Client } from '../../functions/adapters/aws/clients.js';
import { GET_ATTEMPTS } from '../../functions/adapters/aws/get-object.js';

type Cut = 'none' | 'before-response' | 'mid-body';
const BYTES = new Uint8Array(64 * 1024).map((_, i) => i % 251);
const LIST_XML = '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name><Prefix>p/</Prefix><KeyCount>1</KeyCount><IsTruncated>false</IsTruncated><Contents><Key>p/a</Key><Size>3</Size><ETag>"e1"</ETag></Contents></ListBucketResult>';

const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).forEach((close) => close()));

/** A fake S3 endpoint: `cut(n)` says how the n-th request (from 1) is answered. */
async function flakyS3(cut: (n: number) => Cut, missing = false) {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    const n = seen.push(`${req.method} ${req.url}`);
    const how = cut(n);
    if (how === 'before-response') return void req.socket.destroy();
    req.resume();
    req.on('end', () => {
      if (missing) {
        res.writeHead(404, { 'content-type': 'application/xml' });
        return void res.end('<?xml version="1.0"?><Error><Code>NoSuchKey</Code><Message>gone</Message></Error>');
      }
      const list = req.url?.includes('list-type=2');
      const body = req.method === 'PUT' ? Buffer.alloc(0) : list ? Buffer.from(LIST_XML) : Buffer.from(BYTES);
      res.writeHead(200, { 'content-type': list ? 'application/xml' : 'image/png', 'content-length': String(body.length), etag: '"e1"' });
      if (how === 'mid-body') {
        res.write(body.subarray(0, 1000));
        setTimeout(() => req.socket.destroy(), 10);
        return;
      }
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const s3 = createS3Client({ region: 'us-east-1', endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, credentials: { accessKeyId: 'k', secretAccessKey: 's' } });
  closers.push(() => {
    s3.destroy();
    server.closeAllConnections();
    server.close();
  });
  return { blobs: new S3BlobStore(s3, 'b'), seen };
}

describe('S3 adapter over a dropped connection', () => {
  it('serves a GET whose body was cut halfway by asking again', async () => {
    const { blobs, seen } = await flakyS3((n) => (n === 1 ? 'mid-body' : 'none'));
    const got = await blobs.get('images/a.png');
    expect(got?.body).toEqual(BYTES);
    expect(got?.contentType).toBe('image/png');
    expect(seen).toHaveLength(2);
  });

  it('serves GET, HEAD, list and PUT whose connection dropped before any answer', async () => {
    for (const call of [
      (b: S3BlobStore) => b.get('images/a.png').then((g) => expect(g?.body).toEqual(BYTES)),
      (b: S3BlobStore) => b.head('images/a.png').then((h) => expect(h?.etag).toBe('e1')),
      (b: S3BlobStore) => b.list('p/').then((page) => expect(page.items.map((o) => o.key)).toEqual(['p/a'])),
      (b: S3BlobStore) => b.put('images/a.png', BYTES, 'image/png').then((p) => expect(p.etag).toBe('e1')),
    ]) {
      const { blobs, seen } = await flakyS3((n) => (n === 1 ? 'before-response' : 'none'));
      await call(blobs);
      expect(seen).toHaveLength(2);
    }
  });

  it('gives up on a GET cut every time after a bounded number of tries, naming the object', async () => {
    const { blobs, seen } = await flakyS3(() => 'mid-body');
    await expect(blobs.get('images/a.png')).rejects.toThrow(/images\/a\.png.*aborted/);
    expect(seen).toHaveLength(GET_ATTEMPTS);
  });

  it('answers a missing object at once, without asking again', async () => {
    const { blobs, seen } = await flakyS3(() => 'none', true);
    expect(await blobs.get('images/gone.png')).toBeUndefined();
    expect(seen).toHaveLength(1);
  });
});
