// An EXIF-rotated photo (stored sideways, orientation 6): ingest measures it upright, labelers draw on the upright
// picture, and the export must give a trainer boxes in that frame AND an image file whose pixels are upright with
// no orientation tag, so the two agree whether or not the trainer's loader applies EXIF.

import sharp from 'sharp';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { sharpImageFiles } from '../../functions/adapters/export/images.js';
import { zipArchive } from '../../functions/adapters/export/zip.js';
import { writeCoco } from '../../functions/domain/interchange/export/coco.js';
import { decodeImage } from '../../functions/vision/decode.js';
import { exportFixture } from './export-support.js';

const RED = { r: 220, g: 20, b: 20 };

/** A 40x60 upright picture, white with a red block at [5, 10, 15, 30], stored turned 90° counter-clockwise and
 * tagged orientation 6 ("turn 90° clockwise to show"), as a phone held upright writes it. */
async function sidewaysJpeg(): Promise<Uint8Array> {
  const upright = await sharp({ create: { width: 40, height: 60, channels: 3, background: '#ffffff' } })
    .composite([{ input: { create: { width: 10, height: 20, channels: 3, background: RED } }, left: 5, top: 10 }])
    .png()
    .toBuffer();
  const stored = await sharp(upright).rotate(270).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
  const meta = await sharp(stored).metadata();
  expect([meta.width, meta.height, meta.orientation]).toEqual([60, 40, 6]);
  return new Uint8Array(stored);
}

async function pixel(bytes: Uint8Array, x: number, y: number) {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return { r: data[i], g: data[i + 1], b: data[i + 2] };
}

const isRed = (p: { r: number; g: number; b: number }) => p.r > 180 && p.g < 80 && p.b < 80;

describe('EXIF-rotated images in exports', () => {
  it('writes upright pixels without an orientation tag, and boxes that land on the object', async () => {
    const bytes = await sidewaysJpeg();
    const measured = await decodeImage(bytes); // what ingest records as the image size
    expect([measured.width, measured.height]).toEqual([40, 60]);

    const f = await exportFixture('box-review', ['block']);
    await f.add({ n: 1, file: 'phone.jpg', width: measured.width, height: measured.height, label: { confidences: [0], boxes: [{ box: [5, 10, 15, 30], classIndex: 0 }] } });
    await f.add({ n: 2, file: 'plain.jpg', width: 40, height: 60, label: { confidences: [0], boxes: [] } });
    await f.stores.blobs.put('uploads/proj/phone.jpg', bytes, 'image/jpeg');
    const plain = new Uint8Array(await sharp({ create: { width: 40, height: 60, channels: 3, background: '#00ff00' } }).jpeg().toBuffer());
    await f.stores.blobs.put('uploads/proj/plain.jpg', plain, 'image/jpeg');

    const parts: Uint8Array[] = [];
    const zip = zipArchive({ write: async (c) => void parts.push(c.slice()), close: async () => undefined, abort: async () => undefined });
    const ctx = f.ctx({}, { images: sharpImageFiles(f.stores.blobs) });
    await writeCoco(ctx, zip);
    await zip.finish();
    const files = unzipSync(Buffer.concat(parts));

    const coco = JSON.parse(Buffer.from(files['annotations/instances.json']).toString());
    expect(coco.images[0]).toMatchObject({ file_name: 'phone.jpg', width: 40, height: 60 });
    expect(coco.annotations[0].bbox).toEqual([5, 10, 10, 20]);

    const image = files['images/phone.jpg'];
    const meta = await sharp(image).metadata();
    expect([meta.width, meta.height]).toEqual([40, 60]);
    expect(meta.orientation ?? 1).toBe(1);
    // Read WITHOUT applying any orientation: the box's centre is red, outside it is white.
    expect(isRed(await pixel(image, 10, 20))).toBe(true);
    expect(isRed(await pixel(image, 30, 50))).toBe(false);
    expect(isRed(await pixel(image, 10, 45))).toBe(false);
    expect(ctx.counts).toMatchObject({ files: 2, rotated: 1 });
    // An image without rotation is copied byte for byte.
    expect(Buffer.compare(Buffer.from(files['images/plain.jpg']), Buffer.from(plain))).toBe(0);
  });
});
