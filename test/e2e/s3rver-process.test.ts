// The local stack's S3 emulator in its own process: an upload's event is in the stack's hands by the time the
// upload is answered (so "uploaded" still means "queued for ingest"), only uploads are announced, paginated
// listings work (they need OpenSSL's legacy provider in the child), only requests signed with its credentials are
// answered, and objects survive a restart, written so that a stock s3rver reads them (the child writes its own way).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsStores, destroyAwsClients, type AwsStores } from '../../functions/adapters/aws/clients.js';
import { S3ObjectUrls } from '../../functions/adapters/aws/object-urls.js';
import { DEFAULT_TABLE_NAMES } from '../../functions/adapters/aws/schema.js';
import { createHash } from 'node:crypto';
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { startS3rver } from '../../functions/local/emulators.js';
import { startS3rverProcess } from '../../functions/local/s3rver-process.js';

const BUCKET = 'winnow-local';
const ORIGIN = 'http://127.0.0.1:5173';
const storesFor = (endpoint: string) =>
  createAwsStores({
    region: 'us-east-1',
    endpoints: { s3: endpoint },
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    tables: DEFAULT_TABLE_NAMES,
    bucket: BUCKET,
  });

type Announced = { Records: { eventName: string; s3: { object: { key: string; size: number; eTag: string } } }[] };

describe('S3 emulator in a child process', () => {
  let dir: string;
  let s3: Awaited<ReturnType<typeof startS3rverProcess>>;
  let stores: AwsStores;
  const events: Announced[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'winnow-s3rver-process-'));
    s3 = await startS3rverProcess({ dir, bucket: BUCKET, eventPrefixes: ['uploads/'] });
    s3.events.on('event', (event: Announced) => events.push(event));
    stores = storesFor(s3.endpoint);
  });
  afterAll(async () => {
    destroyAwsClients(stores.clients);
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('announces an upload before answering it, and keeps quiet about other keys', async () => {
    events.length = 0;
    const body = new TextEncoder().encode('not really a photo');
    const { etag } = await stores.blobs.put('uploads/garden/a.jpg', body, 'image/jpeg');
    // No waiting: the event arrived before the PUT's answer.
    expect(events).toHaveLength(1);
    expect(events[0].Records[0].eventName).toBe('ObjectCreated:Put');
    expect(events[0].Records[0].s3.object).toMatchObject({ key: 'uploads/garden/a.jpg', size: body.byteLength, eTag: etag });

    await stores.blobs.put('derived/garden/x/thumb.webp', body, 'image/webp');
    expect(events).toHaveLength(1);
  });

  it('lists page by page', async () => {
    await Promise.all(Array.from({ length: 5 }, (_, i) => stores.blobs.put(`listing/${i}.txt`, new Uint8Array([i]), 'text/plain')));
    const first = await stores.blobs.list('listing/', { limit: 2 });
    expect(first.items.map((o) => o.key)).toEqual(['listing/0.txt', 'listing/1.txt']);
    const second = await stores.blobs.list('listing/', { limit: 2, cursor: first.cursor });
    expect(second.items.map((o) => o.key)).toEqual(['listing/2.txt', 'listing/3.txt']);
  });

  it('answers only requests signed with its credentials: no unsigned, forged, edited or foreign-key request', async () => {
    await stores.blobs.put('uploads/garden/signed.jpg', new Uint8Array([9, 9]), 'image/jpeg');
    const url = await stores.blobs.presignGet('uploads/garden/signed.jpg', 60, { contentType: 'image/jpeg' });
    expect((await fetch(url)).status).toBe(200);
    const refused = async (target: string, init?: RequestInit) => {
      const res = await fetch(target, init);
      return { status: res.status, body: await res.text() };
    };
    const plain = `${s3.endpoint}/${BUCKET}/uploads/garden/signed.jpg`;
    expect(await refused(plain)).toMatchObject({ status: 403, body: expect.stringContaining('not signed') });
    const forged = url.replace(/X-Amz-Signature=[0-9a-f]+/, `X-Amz-Signature=${'0'.repeat(64)}`);
    expect(await refused(forged)).toMatchObject({ status: 403, body: expect.stringContaining('signature does not match') });
    const edited = url.replace('response-content-type=image%2Fjpeg', 'response-content-type=text%2Fhtml');
    expect(edited).not.toBe(url);
    expect((await refused(edited)).status).toBe(403);
    // A browser preflight is refused too: no browser talks to the emulator (files go through the API's origin).
    const preflight = await refused(plain, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'PUT' } });
    expect(preflight.status).toBe(403);
    // A client with other credentials (here a well-formed SigV4 with a guessed key) gets nothing.
    const stranger = createAwsStores({
      region: 'us-east-1',
      endpoints: { s3: s3.endpoint },
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'guessed' },
      tables: DEFAULT_TABLE_NAMES,
      bucket: BUCKET,
    });
    await expect(stranger.blobs.get('uploads/garden/signed.jpg')).rejects.toThrow();
    await expect(stranger.blobs.put('uploads/garden/evil.jpg', new Uint8Array([1]), 'image/jpeg')).rejects.toThrow();
    destroyAwsClients(stranger.clients);
    expect(await stores.blobs.head('uploads/garden/evil.jpg')).toBeUndefined();
  });

  it("enforces what the cloud's S3ObjectUrls sign: the upload's content type, the download's disposition", async () => {
    const urls = new S3ObjectUrls(stores.clients.s3, BUCKET);
    const put = await urls.putUrl('uploads/garden/put.jpg', 'image/jpeg', 60);
    expect((await fetch(put, { method: 'PUT', headers: { 'content-type': 'text/html' }, body: '<p>' })).status).toBe(403);
    expect((await fetch(put, { method: 'PUT', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array([1, 2]) })).status).toBe(200);
    const download = await fetch(await urls.getUrl('uploads/garden/put.jpg', 60, { downloadName: 'a "b".jpg' }));
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toBe(`attachment; filename="a _b_.jpg"; filename*=UTF-8''a%20%22b%22.jpg`);
  });

  it('requires the per-start credentials it was given', async () => {
    const secretDir = await mkdtemp(join(tmpdir(), 'winnow-s3rver-secret-'));
    const credentials = { accessKeyId: 'AKIDPERSTART', secretAccessKey: 'per-start-secret' };
    const own = await startS3rverProcess({ dir: secretDir, bucket: BUCKET, credentials });
    try {
      const mine = createAwsStores({ region: 'us-east-1', endpoints: { s3: own.endpoint }, credentials, tables: DEFAULT_TABLE_NAMES, bucket: BUCKET });
      await mine.blobs.put('uploads/x/a.jpg', new Uint8Array([1]), 'image/jpeg');
      expect((await mine.blobs.get('uploads/x/a.jpg'))?.body).toEqual(new Uint8Array([1]));
      destroyAwsClients(mine.clients);
      const documented = storesFor(own.endpoint);
      await expect(documented.blobs.get('uploads/x/a.jpg')).rejects.toThrow();
      destroyAwsClients(documented.clients);
    } finally {
      await own.close();
      await rm(secretDir, { recursive: true, force: true });
    }
  });

  it("hands an upload's bytes over with its event, and reads and writes objects as a stock s3rver does: bytes, ETag, content type, across overwrites", async () => {
    const ownDir = await mkdtemp(join(tmpdir(), 'winnow-s3rver-layout-'));
    const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
    const first = new TextEncoder().encode('first version');
    const second = new TextEncoder().encode('the second, longer version of the photo');
    // A stock s3rver writes the first version (as an older data folder has it) ...
    const stock = await startS3rver({ dir: ownDir, bucket: BUCKET });
    let own = storesFor(stock.endpoint);
    await own.blobs.put('uploads/garden/b.jpg', first, 'image/jpeg');
    destroyAwsClients(own.clients);
    await stock.close();
    // ... the child reads it and writes the second over it ...
    const child = await startS3rverProcess({ dir: ownDir, bucket: BUCKET, eventPrefixes: ['uploads/'], inlineBodyMax: 1024 });
    const bodies: (Uint8Array | undefined)[] = [];
    child.events.on('event', (_e: unknown, body?: Uint8Array) => bodies.push(body));
    own = storesFor(child.endpoint);
    try {
      expect(await own.blobs.get('uploads/garden/b.jpg')).toEqual({ body: first, contentType: 'image/jpeg', etag: md5(first) });
      expect(await own.blobs.put('uploads/garden/b.jpg', second, 'image/jpeg')).toEqual({ etag: md5(second) });
      await own.blobs.put('derived/garden/b1/thumb.webp', first, 'image/webp'); // in a new folder of its own
      // A multipart upload goes s3rver's own way (its parts are streamed together, not held in memory); its bytes are
      // read back for its event.
      const { UploadId } = await own.clients.s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'uploads/garden/parts.bin' }));
      const parts = await Promise.all(
        [first, second].map(async (Body, i) => ({ PartNumber: i + 1, ETag: (await own.clients.s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'uploads/garden/parts.bin', UploadId, PartNumber: i + 1, Body }))).ETag })),
      );
      await own.clients.s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'uploads/garden/parts.bin', UploadId, MultipartUpload: { Parts: parts } }));
      expect((await own.blobs.get('uploads/garden/parts.bin'))?.body).toEqual(new Uint8Array([...first, ...second]));
      expect(bodies.map((b) => b && new TextDecoder().decode(b))).toEqual(['the second, longer version of the photo', 'first versionthe second, longer version of the photo']);
      expect(await own.blobs.get('uploads/garden/b.jpg')).toEqual({ body: second, contentType: 'image/jpeg', etag: md5(second) });
      destroyAwsClients(own.clients);
      await child.close();
      // ... and a stock s3rver reads what the child wrote.
      const again = await startS3rver({ dir: ownDir, bucket: BUCKET });
      own = storesFor(again.endpoint);
      try {
        expect(await own.blobs.get('uploads/garden/b.jpg')).toEqual({ body: second, contentType: 'image/jpeg', etag: md5(second) });
        expect(await own.blobs.get('derived/garden/b1/thumb.webp')).toEqual({ body: first, contentType: 'image/webp', etag: md5(first) });
      } finally {
        await again.close();
      }
    } finally {
      destroyAwsClients(own.clients);
      await child.close();
      await rm(ownDir, { recursive: true, force: true });
    }
  });

  it('keeps objects across a restart on the same folder', async () => {
    await stores.blobs.put('uploads/garden/kept.jpg', new Uint8Array([1, 2, 3]), 'image/jpeg');
    destroyAwsClients(stores.clients);
    await s3.close();
    s3 = await startS3rverProcess({ dir, bucket: BUCKET });
    stores = storesFor(s3.endpoint);
    expect((await stores.blobs.get('uploads/garden/kept.jpg'))?.body).toEqual(new Uint8Array([1, 2, 3]));
  });
});
