// Uploads that are broken, hostile or merely unusual: each is refused with a reason a user can act on, or
// analysed correctly, and none of them disturbs the next image.

import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WinnowError } from '../../functions/domain/errors.js';
import { createImageAnalyzer, type VisionAnalyzer } from '../../functions/vision/analyzer.js';
import { decodeImage } from '../../functions/vision/decode.js';
import { isAnimatedPng } from '../../functions/vision/preprocess.js';
import { MODELS } from '../support/paths.js';
import { DAISY, writeFixtures } from './support/fixtures.js';

let files: Record<string, string>;
let analyzer: VisionAnalyzer;

beforeAll(async () => {
  files = await writeFixtures();
  // No detector: these tests are about decoding; the detector has its own tests.
  analyzer = await createImageAnalyzer({ modelDir: MODELS, detector: null });
});

const analyze = async (name: string) => analyzer.analyze(await readFile(files[name]));

async function refusal(name: string): Promise<WinnowError> {
  const error = await analyze(name).then(
    () => undefined,
    (err: WinnowError) => err,
  );
  expect(error, `${name} should be refused`).toBeDefined();
  expect(error!.code).toBe('bad_request');
  return error!;
}

describe('refused uploads say why', () => {
  it('truncated JPEG', async () => {
    expect((await refusal('truncated.jpg')).message).toMatch(/^truncated JPEG/);
  });

  it('truncated PNG', async () => {
    expect((await refusal('truncated.png')).message).toMatch(/^truncated PNG/);
  });

  it('zero-byte file', async () => {
    expect((await refusal('empty.jpg')).message).toBe('empty file (0 bytes)');
  });

  it('a text file named .jpg', async () => {
    expect((await refusal('notes.jpg')).message).toBe('not an image: looks like plain text');
  });

  it('SVG is refused from its first bytes, before any decoder sees it', async () => {
    expect((await refusal('drawing.svg')).message).toMatch(/^not an image: looks like SVG\/XML text/);
    // Even behind a byte-order mark, leading spaces and a .png name.
    expect((await refusal('svg-named.png')).message).toMatch(/looks like SVG/);
  });

  it('a PNG whose header claims 60000x60000 is refused without decoding', async () => {
    // The refusal names the size read from the header: the decoder (which would need minutes and ~10 GB for 3.6
    // gigapixels, and words its own refusals differently) never saw the file.
    expect((await refusal('bomb.png')).message).toBe('image is 60000x60000 = 3600 MP, above the 40 MP limit');
  });

  it('the pixel limit is configurable', async () => {
    const bytes = await readFile(DAISY); // 320x263 = 84160 pixels
    await expect(decodeImage(bytes, { maxPixels: 80_000 })).rejects.toThrow('image is 320x263 = 0.084 MP, above the 0.080 MP limit');
    await expect(decodeImage(bytes, { maxPixels: 90_000 })).resolves.toMatchObject({ width: 320, height: 263 });
  });
});

describe('unusual but valid images are analysed', () => {
  it.each(['webp', 'tiff', 'avif', 'gif'] as const)('%s is accepted', async (format) => {
    const bytes = await sharp(await readFile(DAISY))[format]().toBuffer();
    expect(await analyzer.analyze(bytes)).toMatchObject({ format, width: 320, height: 263 });
  });

  const pixel = (image: { pixels: Buffer; pixelWidth: number }, x: number, y: number) =>
    [...image.pixels.subarray((y * image.pixelWidth + x) * 3, (y * image.pixelWidth + x) * 3 + 3)];

  it('animated GIF: the first frame is used', async () => {
    const analysis = await analyze('animated.gif');
    expect(analysis).toMatchObject({ format: 'gif', width: 8, height: 8 });
    const image = await decodeImage(await readFile(files['animated.gif']));
    expect(image.pages).toBe(3);
    expect(pixel(image, 4, 4)).toEqual([255, 0, 0]);
  });

  it('CMYK JPEG becomes sRGB with about the right colour', async () => {
    const analysis = await analyze('cmyk.jpg');
    expect(analysis).toMatchObject({ format: 'jpeg', width: 64, height: 48 });
    expect(analysis.embedding).toHaveLength(1280);
    const [r, g, b] = pixel(await decodeImage(await readFile(files['cmyk.jpg'])), 32, 24);
    expect(Math.abs(r - 230) + Math.abs(g - 120) + Math.abs(b - 30)).toBeLessThan(60);
  });

  it('16-bit PNG becomes 8-bit with the same colour', async () => {
    expect((await sharp(await readFile(files['16bit.png'])).metadata()).depth).toBe('ushort');
    expect(await analyze('16bit.png')).toMatchObject({ format: 'png', width: 64, height: 48 });
    const [r, g, b] = pixel(await decodeImage(await readFile(files['16bit.png'])), 10, 10);
    expect([r, g, b].map((v, i) => Math.abs(v - [200, 100, 50][i]))).toEqual([0, 0, 0]);
  });

  it('single-channel greyscale becomes three equal channels', async () => {
    const image = await decodeImage(await readFile(files['grey.png']));
    expect(pixel(image, 5, 5)).toEqual([90, 90, 90]);
    const analysis = await analyze('grey.jpg');
    expect(analysis).toMatchObject({ width: 320, height: 263 });
    // Still a daisy in black and white.
    expect(analysis.tags?.[0].name).toBe('daisy');
  });

  it('1x1 image', async () => {
    const analysis = await analyze('1x1.png');
    expect(analysis).toMatchObject({ format: 'png', width: 1, height: 1 });
    expect(analysis.embedding).toHaveLength(1280);
    expect(analysis.thumbnail.length).toBeGreaterThan(0);
  });

  // Where the red top-left corner of the stored pixels ends up once the EXIF orientation is applied.
  const corner: Record<number, 'tl' | 'tr' | 'br' | 'bl'> = { 1: 'tl', 2: 'tr', 3: 'br', 4: 'bl', 5: 'tl', 6: 'tr', 7: 'br', 8: 'bl' };
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('EXIF orientation %i is applied', async (orientation) => {
    const name = `orientation-${orientation}.jpg`;
    const swapped = orientation >= 5;
    expect(await analyze(name)).toMatchObject({ width: swapped ? 30 : 60, height: swapped ? 60 : 30 });
    const image = await decodeImage(await readFile(files[name]));
    const w = image.pixelWidth - 1;
    const h = image.pixelHeight - 1;
    const at = { tl: [2, 2], tr: [w - 2, 2], br: [w - 2, h - 2], bl: [2, h - 2] } as const;
    for (const [place, [x, y]] of Object.entries(at)) {
      const [r, g] = pixel(image, x, y);
      expect(r > 200 && g < 80, `red corner at ${place}?`).toBe(place === corner[orientation]);
    }
  });
});

it('a refused file does not disturb the next image', async () => {
  for (const name of ['truncated.jpg', 'bomb.png', 'drawing.svg', 'empty.jpg']) await refusal(name);
  const analysis = await analyzer.analyze(await readFile(DAISY));
  expect(analysis.tags?.[0].name).toBe('daisy');
});

describe('which originals are shown as they are (no display copy)', () => {
  const shownAsIs = async (bytes: Uint8Array) => (await analyzer.analyze(bytes)).display === undefined;
  const daisy = () => readFile(DAISY);

  it('a small upright JPEG, PNG or WebP is shown as it is', async () => {
    expect(await shownAsIs(await daisy())).toBe(true);
    expect(await shownAsIs(await sharp(await daisy()).png().toBuffer())).toBe(true);
    expect(await shownAsIs(await sharp(await daisy()).webp().toBuffer())).toBe(true);
    expect(await shownAsIs(await readFile(files['grey.jpg']))).toBe(true);
  });

  it('a photo carrying EXIF, XMP or IPTC metadata (e.g. where it was taken) gets a display copy without it', async () => {
    const gps = { IFD0: { Make: 'Winnow test' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2959/100' } };
    const tagged = await sharp(await daisy()).withExifMerge(gps).jpeg().toBuffer();
    expect((await sharp(tagged).metadata()).exif).toBeDefined();
    const analysis = await analyzer.analyze(tagged);
    expect(analysis.display).toBeDefined();
    const copy = await sharp(analysis.display!).metadata();
    expect([copy.format, copy.exif, copy.xmp, copy.iptc]).toEqual(['webp', undefined, undefined, undefined]);
    expect(await shownAsIs(await readFile(files['orientation-1.jpg']))).toBe(false); // an EXIF block, if only the orientation
  });

  it('a sideways JPEG gets an upright display copy', async () => {
    for (const orientation of [2, 3, 4, 5, 6, 7, 8]) {
      const analysis = await analyze(`orientation-${orientation}.jpg`);
      expect(analysis.display, `orientation ${orientation}`).toBeDefined();
      const meta = await sharp(analysis.display!).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['webp', analysis.width, analysis.height]);
    }
  });

  it('a large photo gets a 1600 px display copy', async () => {
    const big = await sharp(await daisy()).resize(2000, 1644).jpeg().toBuffer();
    const analysis = await analyzer.analyze(big);
    expect(analysis.display).toBeDefined();
    expect((await sharp(analysis.display!).metadata()).width).toBe(1600);
  });

  it('GIF, TIFF, AVIF, animations, CMYK, 16-bit and files heavy for their size get a display copy', async () => {
    for (const name of ['animated.gif', 'cmyk.jpg', '16bit.png']) expect(await shownAsIs(await readFile(files[name])), name).toBe(false);
    for (const format of ['gif', 'tiff', 'avif'] as const) {
      expect(await shownAsIs(await sharp(await daisy())[format]().toBuffer()), format).toBe(false);
    }
    const animatedWebp = await sharp(await readFile(files['animated.gif']), { animated: true }).webp().toBuffer();
    expect(await shownAsIs(animatedWebp)).toBe(false);
    // 320x263 pixels carrying 1 MB (e.g. a huge metadata block or data after the image): the copy is smaller.
    const padded = Buffer.concat([await daisy(), Buffer.alloc(1024 * 1024)]);
    expect(await shownAsIs(padded)).toBe(false);
  });

  it('an animated PNG (APNG) gets a display copy: browsers would play it, the models see one frame', () => {
    const png = (chunks: string[]) => {
      const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])];
      for (const type of chunks) {
        const data = Buffer.alloc(type === 'IHDR' ? 13 : type === 'acTL' ? 8 : 0);
        const length = Buffer.alloc(4);
        length.writeUInt32BE(data.length);
        parts.push(length, Buffer.from(type, 'latin1'), data, Buffer.alloc(4));
      }
      return Buffer.concat(parts);
    };
    expect(isAnimatedPng(png(['IHDR', 'acTL', 'IDAT', 'IEND']))).toBe(true);
    expect(isAnimatedPng(png(['IHDR', 'IDAT', 'IEND']))).toBe(false);
    expect(isAnimatedPng(png(['IHDR']))).toBe(false); // cut short
  });
});
