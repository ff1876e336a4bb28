import { describe, expect, it } from 'vitest';
import { flowerJpeg, uniqueId, type StoreTarget } from '../fixtures.js';

export function blobStoreContract(target: () => StoreTarget): void {
  describe('BlobStore', () => {
    it('returns the exact bytes of a stored photo, with its type and entity tag', async () => {
      const { blobs } = target().stores;
      const key = `uploads/${uniqueId('p')}/daisy.jpg`;
      const jpeg = await flowerJpeg();
      const { etag } = await blobs.put(key, jpeg, 'image/jpeg');
      expect(etag).toMatch(/^[^"]+$/);
      const got = await blobs.get(key);
      expect(got?.contentType).toBe('image/jpeg');
      expect(got?.etag).toBe(etag);
      expect(Buffer.from(got!.body).equals(Buffer.from(jpeg))).toBe(true);
    });

    it('describes a stored object without reading it, and nothing for a missing one', async () => {
      const { blobs } = target().stores;
      const key = `derived/${uniqueId('p')}/img/thumb.webp`;
      const bytes = new Uint8Array(Array.from({ length: 256 }, (_, i) => i));
      const { etag } = await blobs.put(key, bytes, 'image/webp');
      expect(await blobs.head(key)).toMatchObject({ key, bytes: 256, etag, contentType: 'image/webp' });
      expect(await blobs.head(`${key}.missing`)).toBeUndefined();
      expect(await blobs.get(`${key}.missing`)).toBeUndefined();
    });

    it('lists a prefix page by page in key order', async () => {
      const { blobs } = target().stores;
      const prefix = `uploads/${uniqueId('p')}/`;
      const names = ['e.jpg', 'a.jpg', 'sub/c.jpg', 'b.jpg', 'd.jpg'];
      for (const name of names) await blobs.put(prefix + name, new TextEncoder().encode(name), 'image/jpeg');
      await blobs.put(`${prefix.slice(0, -1)}-other/x.jpg`, new Uint8Array([1]), 'image/jpeg');
      const pages: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await blobs.list(prefix, { cursor, limit: 2 });
        pages.push(page.items.map((o) => o.key));
        cursor = page.cursor;
      } while (cursor);
      expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
      expect(pages.flat()).toEqual(['a.jpg', 'b.jpg', 'd.jpg', 'e.jpg', 'sub/c.jpg'].map((n) => prefix + n));
      const [first] = (await blobs.list(prefix, { limit: 1 })).items;
      expect(first).toMatchObject({ key: `${prefix}a.jpg`, bytes: 5 });
    });

    it('serves a stored photo through a presigned GET URL', async () => {
      const target_ = target();
      const key = `uploads/${uniqueId('p')}/daisy.jpg`;
      const jpeg = await flowerJpeg();
      await target_.stores.blobs.put(key, jpeg, 'image/jpeg');
      const url = await target_.stores.blobs.presignGet(key, 60);
      const res = await target_.fetchPresigned(url);
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(jpeg))).toBe(true);
    });

    it('a presigned GET URL with a content type serves the object with that type, whatever it was stored with', async () => {
      const target_ = target();
      const jpeg = await flowerJpeg();
      // A plain key (the fast signing path) and one with spaces and '+' (the SDK's own path).
      for (const name of ['daisy.jpg', 'my daisy+1.jpg']) {
        const key = `uploads/${uniqueId('p')}/${name}`;
        await target_.stores.blobs.put(key, jpeg, 'text/html');
        const res = await target_.fetchPresigned(await target_.stores.blobs.presignGet(key, 60, { contentType: 'image/jpeg' }));
        expect([res.status, res.headers.get('content-type')], name).toEqual([200, 'image/jpeg']);
        expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(jpeg))).toBe(true);
      }
    });

    it('stops serving a presigned GET URL once it has expired', async () => {
      const target_ = target();
      const key = `uploads/${uniqueId('p')}/daisy.jpg`;
      await target_.stores.blobs.put(key, new Uint8Array([1, 2, 3]), 'image/jpeg');
      // Signed ten minutes ago: with a one-minute lifetime the URL has expired, with fifteen minutes it has not.
      target_.clock.offsetMs = -10 * 60_000;
      let expired: string, live: string;
      try {
        expired = await target_.stores.blobs.presignGet(key, 60);
        live = await target_.stores.blobs.presignGet(key, 15 * 60);
      } finally {
        target_.clock.offsetMs = 0;
      }
      expect((await target_.fetchPresigned(expired)).status).toBe(403);
      expect((await target_.fetchPresigned(live)).status).toBe(200);
    });

    it('accepts an upload through a presigned PUT URL with the signed content type', async () => {
      const target_ = target();
      const key = `uploads/${uniqueId('p')}/upload.jpg`;
      const jpeg = await flowerJpeg();
      const url = await target_.stores.blobs.presignPut(key, 'image/jpeg', 60);
      const res = await target_.fetchPresigned(url, { method: 'PUT', body: jpeg, headers: { 'content-type': 'image/jpeg' } });
      expect(res.status).toBe(200);
      const got = await target_.stores.blobs.get(key);
      expect(got?.contentType).toBe('image/jpeg');
      expect(Buffer.from(got!.body).equals(Buffer.from(jpeg))).toBe(true);
    });

    it('deletes an object, and deleting it again is harmless', async () => {
      const { blobs } = target().stores;
      const key = `exports/${uniqueId('p')}/labels.csv`;
      await blobs.put(key, new TextEncoder().encode('sample,label\n'), 'text/csv');
      await blobs.delete(key);
      expect(await blobs.get(key)).toBeUndefined();
      expect(await blobs.head(key)).toBeUndefined();
      await blobs.delete(key);
    });
  });
}
