// What labelers are shown for each upload, end to end on the local stack: a small upright JPEG is served as the
// uploaded file itself (no display copy is made), always as image/jpeg whatever Content-Type it was stored with; a
// sideways or large photo gets an upright WebP display copy; an SVG is refused and never served.

import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageIdFor } from '../../functions/domain/ingest.js';
import type { LocalStack } from '../../functions/local/stack.js';
import { apiClient, startTestStack, tempDir, waitFor } from '../support/stack.js';
import { DAISY } from '../vision/support/fixtures.js';

type Listed = { imageId: string; key: string; status: string; width?: number; height?: number; url: string; thumbUrl: string };

describe('display image of an upload', () => {
  let stack: LocalStack;
  let images: Map<string, Listed>;
  const daisy = () => readFile(DAISY);
  let sideways: Buffer;
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>';

  beforeAll(async () => {
    stack = await startTestStack(await tempDir('display'));
    const owner = apiClient(stack.url, 'owner');
    expect((await owner('POST', '/api/projects', { id: 'show', classes: ['a', 'b'] })).status).toBe(201);
    sideways = await sharp(await daisy()).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const uploads: [string, Uint8Array, string][] = [
      // Stored with a hostile content type: it must still be served as a JPEG.
      ['small.jpg', await daisy(), 'text/html'],
      ['small.png', await sharp(await daisy()).png().toBuffer(), 'image/png'],
      ['sideways.jpg', sideways, 'image/jpeg'],
      ['big.jpg', await sharp(await daisy()).resize(2000, 1644).jpeg().toBuffer(), 'image/jpeg'],
      ['drawing.jpg', new TextEncoder().encode(svg), 'image/svg+xml'],
    ];
    for (const [name, body, type] of uploads) await stack.stores.blobs.put(`uploads/show/${name}`, body, type);
    const list = async () => ((await owner('GET', '/api/projects/show/images')).json as { images: Listed[] }).images;
    const done = await waitFor(async () => {
      const listed = await list();
      return listed.length === uploads.length && listed.every((i) => i.status !== 'pending') && listed;
    }, 'ingest of the uploads');
    images = new Map(done.map((i) => [i.key.slice('uploads/show/'.length), i]));
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  const fetched = async (url: string) => {
    const res = await fetch(url);
    return { status: res.status, type: res.headers.get('content-type'), body: new Uint8Array(await res.arrayBuffer()) };
  };

  it('a small upright JPEG or PNG is served as the uploaded file, with its sniffed type forced; no copy is made', async () => {
    for (const [name, type] of [['small.jpg', 'image/jpeg'], ['small.png', 'image/png']]) {
      const image = images.get(name)!;
      expect(image.status).toBe('ready');
      const served = await fetched(image.url);
      expect([served.status, served.type]).toEqual([200, type]);
      expect(Buffer.from(served.body).equals((await stack.stores.blobs.get(image.key))!.body)).toBe(true);
      expect(await stack.stores.blobs.head(`derived/show/${image.imageId}/display.webp`)).toBeUndefined();
      // The thumbnail is still a small WebP.
      expect((await fetched(image.thumbUrl)).type).toBe('image/webp');
    }
    // The API's file route redirects to the same kind of URL.
    const res = await fetch(`${stack.url}/api/projects/show/images/${images.get('small.jpg')!.imageId}/file`, {
      headers: { 'x-winnow-user': 'owner' },
    });
    expect([res.status, res.headers.get('content-type')]).toEqual([200, 'image/jpeg']);
  });

  it('a sideways JPEG is shown through an upright WebP copy', async () => {
    const image = images.get('sideways.jpg')!;
    expect([image.width, image.height]).toEqual([263, 320]);
    const served = await fetched(image.url);
    expect(served.type).toBe('image/webp');
    const meta = await sharp(served.body).metadata();
    expect([meta.format, meta.width, meta.height, meta.orientation ?? 1]).toEqual(['webp', 263, 320, 1]);
  });

  it('a large photo is shown through a 1600 px WebP copy', async () => {
    const served = await fetched(images.get('big.jpg')!.url);
    const meta = await sharp(served.body).metadata();
    expect([served.type, meta.width, meta.height]).toEqual(['image/webp', 1600, 1315]);
  });

  it('an SVG is refused and never served', async () => {
    const image = images.get('drawing.jpg')!;
    expect(image.status).toBe('failed');
    expect(image.imageId).toBe(imageIdFor('uploads/show/drawing.jpg'));
    const served = await fetched(image.url);
    expect(served.status).not.toBe(200);
    expect(new TextDecoder().decode(served.body)).not.toContain('<svg');
    const file = await fetch(`${stack.url}/api/projects/show/images/${image.imageId}/file`, { headers: { 'x-winnow-user': 'owner' }, redirect: 'manual' });
    expect(file.status).toBe(404);
  });
});
