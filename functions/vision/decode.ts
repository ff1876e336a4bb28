// Decode an upload once into an oriented 8-bit sRGB RGB pixel buffer (at most display size), which every later
// step (thumbnails, model tensors, detection crops) resizes from without decoding the file again.

import sharp from 'sharp';
import { WinnowError } from '../domain/errors.js';
import { sniffImageFormat, type ImageFormat } from '../domain/image-format.js';

export const DEFAULT_MAX_PIXELS = 40_000_000;
export const DEFAULT_WORKING_SIDE = 1600;

export interface DecodeOptions {
  /** Reject images with more pixels than this (pixel bombs). Default 40 MP. */
  maxPixels?: number;
  /** Longest side of the decoded working copy; larger images are shrunk while loading. Default 1600. */
  workingSide?: number;
}

export interface DecodedImage {
  format: ImageFormat;
  /** Size of the original after EXIF orientation, in pixels. */
  width: number;
  height: number;
  /** Frames/pages in the file; only the first is used. */
  pages: number;
  /** EXIF orientation tag of the file (1-8); absent when it has none. */
  orientation?: number;
  /** Colour space of the file as libvips names it ('srgb', 'b-w', 'cmyk', 'rgb16', ...). */
  space?: string;
  /** Whether the file carries EXIF, XMP or IPTC metadata (GPS position, camera serial, author...). */
  metadata: boolean;
  /** Oriented sRGB pixels, 3 bytes per pixel (R, G, B), row-major, alpha flattened onto white. */
  pixels: Buffer;
  pixelWidth: number;
  pixelHeight: number;
}

/** sharp's name for our formats where they differ (AVIF is read by the HEIF loader). */
const SHARP_FORMAT: Partial<Record<ImageFormat, string>> = { avif: 'heif' };

const megapixels = (n: number) => (n / 1e6 >= 10 ? Math.round(n / 1e6).toString() : (n / 1e6).toPrecision(2));

export async function decodeImage(bytes: Uint8Array, opts: DecodeOptions = {}): Promise<DecodedImage> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const workingSide = opts.workingSide ?? DEFAULT_WORKING_SIDE;
  const format = sniffImageFormat(bytes);
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  // Header only, without sharp's own limit, so the message can say how large the image claims to be.
  const meta = await sharp(input, { limitInputPixels: false, failOn: 'error' })
    .metadata()
    .catch((err: unknown) => {
      throw decodeFailure(format, err);
    });
  if (meta.format !== (SHARP_FORMAT[format] ?? format)) {
    throw new WinnowError('bad_request', `damaged ${format.toUpperCase()} file: it starts like one but reads as ${meta.format ?? 'nothing'}`);
  }
  const pixelCount = meta.width * meta.height;
  if (pixelCount > maxPixels) {
    throw new WinnowError(
      'bad_request',
      `image is ${meta.width}x${meta.height} = ${megapixels(pixelCount)} MP, above the ${megapixels(maxPixels)} MP limit`,
    );
  }

  // failOn 'error' rejects truncated data but accepts the harmless warnings many cameras' JPEGs carry.
  const { data, info } = await sharp(input, { limitInputPixels: maxPixels, failOn: 'error', sequentialRead: true })
    .autoOrient()
    .resize({ width: workingSide, height: workingSide, fit: 'inside', withoutEnlargement: true })
    .toColourspace('srgb')
    .flatten({ background: '#ffffff' })
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true })
    .catch((err: unknown) => {
      throw decodeFailure(format, err);
    });
  if (info.channels !== 3) throw new WinnowError('internal', `decoder gave ${info.channels} channels, expected 3`);

  return {
    format,
    width: meta.autoOrient.width,
    height: meta.autoOrient.height,
    pages: meta.pages ?? 1,
    ...(meta.orientation !== undefined ? { orientation: meta.orientation } : {}),
    ...(meta.space !== undefined ? { space: meta.space } : {}),
    metadata: Boolean(meta.exif || meta.xmp || meta.iptc),
    pixels: data,
    pixelWidth: info.width,
    pixelHeight: info.height,
  };
}

const TRUNCATED = /premature end|unexpected end|end of file|truncat|read error|bad seek|outside of file bounds|not enough data/i;

/** Turns a libvips message into a reason a user can act on. */
function decodeFailure(format: ImageFormat, err: unknown): WinnowError {
  const detail = (err instanceof Error ? err.message : String(err)).split('\n')[0]
    .replace(/^Input buffer has corrupt header: /, '')
    .replace(/^(VipsJpeg|vipspng|gifload_buffer|tiff2vips|source|heif|webp): /i, '');
  const name = format.toUpperCase();
  if (/exceeds pixel limit/i.test(detail)) return new WinnowError('bad_request', `image is above the pixel limit (${detail})`);
  if (TRUNCATED.test(detail)) {
    return new WinnowError('bad_request', `truncated ${name}: the image data ends early or is damaged (was the upload interrupted?); decoder said: ${detail}`);
  }
  return new WinnowError('bad_request', `damaged ${name} file: it could not be decoded; decoder said: ${detail}`);
}
