// Awkward image files, generated with sharp at test time into a temp dir (nothing binary lives in the repo).

import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { FLOWERS } from '../../support/paths.js';

export const DAISY = path.join(FLOWERS, 'daisy/100080576_f52e8ee070_n.jpg');
export const PERSON = path.join(FLOWERS, 'daisy/9158041313_7a6a102f7a_n.jpg');

/** 60x30 image: red top-left 10x10 corner on a grey background, so orientation is visible. */
export async function markedImage(): Promise<{ raw: Buffer; width: number; height: number }> {
  const width = 60;
  const height = 30;
  const raw = Buffer.alloc(width * height * 3, 128);
  for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) raw.set([255, 0, 0], (y * width + x) * 3);
  return { raw, width, height };
}

/** A PNG whose IHDR claims width x height (CRC fixed up), though it holds only a few pixels. */
export async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await sharp({ create: { width: 2, height: 2, channels: 3, background: '#00ff00' } }).png().toBuffer());
  // Signature (8) + IHDR length (4) + "IHDR" (4), then width and height; the CRC covers type + data (17 bytes).
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(zlib.crc32(png.subarray(12, 29)), 29);
  return png;
}

export async function animatedGif(colours: string[], side = 8): Promise<Buffer> {
  const frames = await Promise.all(
    colours.map((background) => sharp({ create: { width: side, height: side, channels: 3, background } }).raw().toBuffer()),
  );
  return sharp(Buffer.concat(frames), { raw: { width: side, height: side * colours.length, channels: 3, pageHeight: side } })
    .gif({ loop: 0, delay: colours.map(() => 100) })
    .toBuffer();
}

const solid = (background: { r: number; g: number; b: number }, width = 64, height = 48) =>
  sharp({ create: { width, height, channels: 3, background } });

/** Every awkward file, written to a fresh temp dir: name -> path. */
export async function writeFixtures(): Promise<Record<string, string>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'winnow-vision-'));
  const daisy = await readFile(DAISY);
  const daisyPng = await sharp(daisy).png().toBuffer();
  const marked = await markedImage();
  const markedSharp = () => sharp(marked.raw, { raw: { width: marked.width, height: marked.height, channels: 3 } });

  const files: Record<string, Uint8Array | string> = {
    'truncated.jpg': daisy.subarray(0, Math.floor(daisy.length / 2)),
    'truncated.png': daisyPng.subarray(0, Math.floor(daisyPng.length * 0.6)),
    'empty.jpg': new Uint8Array(0),
    'notes.jpg': 'Shopping list:\n- flour\n- eggs\nThis is a text file that someone renamed to .jpg.\n',
    'drawing.svg':
      '<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">' +
      '<image href="file:///etc/passwd" width="100" height="100"/><circle cx="50" cy="50" r="40" fill="red"/></svg>\n',
    'svg-named.png': '\uFEFF  <svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
    'bomb.png': await pngClaiming(60000, 60000),
    'animated.gif': await animatedGif(['#ff0000', '#00ff00', '#0000ff']),
    'cmyk.jpg': await solid({ r: 230, g: 120, b: 30 }).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer(),
    '16bit.png': await solid({ r: 200, g: 100, b: 50 }).toColourspace('rgb16').png().toBuffer(),
    'grey.png': await solid({ r: 90, g: 90, b: 90 }).toColourspace('b-w').png().toBuffer(),
    'grey.jpg': await sharp(daisy).greyscale().toColourspace('b-w').jpeg().toBuffer(),
    '1x1.png': await solid({ r: 10, g: 200, b: 30 }, 1, 1).png().toBuffer(),
  };
  for (let orientation = 1; orientation <= 8; orientation++) {
    files[`orientation-${orientation}.jpg`] = await markedSharp().jpeg({ quality: 95 }).withMetadata({ orientation }).toBuffer();
  }
  const paths: Record<string, string> = {};
  for (const [name, body] of Object.entries(files)) {
    paths[name] = path.join(dir, name);
    await writeFile(paths[name], body);
  }
  return paths;
}
