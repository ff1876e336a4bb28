// Decide what an upload is from its first bytes, before any decoder sees it. Only raster formats we accept reach
// sharp: an SVG, PDF or HTML file is never rasterized (libvips could render SVG and fetch what it references).

import { WinnowError } from './errors.js';

const reject = (reason: string) => new WinnowError('bad_request', reason);

export const ACCEPTED_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'] as const;
export type ImageFormat = (typeof ACCEPTED_FORMATS)[number];

const ascii = (bytes: Uint8Array, start: number, end: number) =>
  String.fromCharCode(...bytes.subarray(start, Math.min(end, bytes.length)));

const startsWith = (bytes: Uint8Array, sig: number[], at = 0) => sig.every((b, i) => bytes[at + i] === b);

/** ISO-BMFF (HEIF family): `ftyp` box at offset 4, major brand at 8, compatible brands after 16. */
function heifBrands(bytes: Uint8Array): string[] | undefined {
  if (bytes.length < 12 || ascii(bytes, 4, 8) !== 'ftyp') return undefined;
  const boxSize = Math.min(((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0, bytes.length, 256);
  const brands = [ascii(bytes, 8, 12)];
  for (let at = 16; at + 4 <= boxSize; at += 4) brands.push(ascii(bytes, at, at + 4));
  return brands;
}

/** The accepted format of these bytes, or a WinnowError('bad_request') saying in plain words what they are. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat {
  if (bytes.length === 0) throw reject('empty file (0 bytes)');
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return 'gif';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'webp';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  const brands = heifBrands(bytes);
  if (brands?.some((b) => b === 'avif' || b === 'avis')) return 'avif';
  if (brands?.some((b) => /^(heic|heix|hevc|heim|heis|mif1|msf1)$/.test(b))) {
    throw reject('HEIC/HEIF images are not supported: export the photo as JPEG');
  }
  throw reject(describeNonImage(bytes));
}

/** A short guess at what a non-image upload is, so the user knows what went wrong. */
function describeNonImage(bytes: Uint8Array): string {
  if (bytes.length < 12) return `not an image: only ${bytes.length} bytes`;
  if (ascii(bytes, 0, 5) === '%PDF-') return 'not an image: looks like a PDF document';
  if (ascii(bytes, 0, 2) === 'BM') return 'BMP images are not supported: convert to PNG or JPEG';
  if (startsWith(bytes, [0x1f, 0x8b])) return 'not an image: looks like gzip-compressed data (e.g. .svgz)';
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) return 'not an image: looks like a ZIP archive';
  const head = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 4096)).replace(/^\uFEFF/, '').trimStart();
  if (head.startsWith('<')) {
    if (/<svg[\s>]/i.test(head) || /<!DOCTYPE\s+svg/i.test(head)) return 'not an image: looks like SVG/XML text (SVG is not accepted)';
    if (/<html[\s>]|<!DOCTYPE\s+html/i.test(head)) return 'not an image: looks like an HTML page';
    return 'not an image: looks like XML/markup text';
  }
  const sample = bytes.subarray(0, 512);
  const printable = sample.filter((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b !== 127)).length;
  if (printable / sample.length > 0.95) return 'not an image: looks like plain text';
  return 'not a supported image: expected JPEG, PNG, WebP, GIF, TIFF or AVIF';
}
