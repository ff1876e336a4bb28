// The exact float32 NCHW tensor a manifest asks for, and the WebP copies the web app shows. sharp does every
// resize, crop and pad; JS only converts the final small RGB buffer to planar floats through per-channel lookup
// tables (one table read per value, no arithmetic per pixel).

import sharp, { type Sharp } from 'sharp';
import type { Box } from '../domain/model.js';
import type { DecodedImage } from './decode.js';
import type { Preprocess } from './manifest.js';

export interface ImageTensor {
  /** [3, side, side] planar floats, in the manifest's channel order. */
  data: Float32Array;
  side: number;
  /** Maps tensor pixels back to original-image pixels: x = offsetX + tx * scaleX (letterbox only is exact). */
  toOriginal: { scaleX: number; scaleY: number; offsetX: number; offsetY: number };
}

export const tensorSide = (spec: Preprocess) => (spec.resize === 'letterbox-top-left' ? spec.size : spec.crop);

const rawInput = (image: DecodedImage): Sharp =>
  sharp(image.pixels, { raw: { width: image.pixelWidth, height: image.pixelHeight, channels: 3 } });

/** A region of the original image (e.g. a detection box) in working-copy pixels, at least 1x1 and inside it. */
function workingRegion(image: DecodedImage, box: Box | undefined) {
  if (!box) return { left: 0, top: 0, width: image.pixelWidth, height: image.pixelHeight };
  const fx = image.pixelWidth / image.width;
  const fy = image.pixelHeight / image.height;
  const left = Math.min(image.pixelWidth - 1, Math.max(0, Math.floor(box[0] * fx)));
  const top = Math.min(image.pixelHeight - 1, Math.max(0, Math.floor(box[1] * fy)));
  const right = Math.min(image.pixelWidth, Math.max(left + 1, Math.ceil(box[2] * fx)));
  const bottom = Math.min(image.pixelHeight, Math.max(top + 1, Math.ceil(box[3] * fy)));
  return { left, top, width: right - left, height: bottom - top };
}

type Region = ReturnType<typeof workingRegion>;
type CropSpec = Extract<Preprocess, { resize: 'shorter-side-then-center-crop' }>;
type LetterboxSpec = Extract<Preprocess, { resize: 'letterbox-top-left' }>;

/** Builds the model input for the whole image, or for `box` (original pixels) when given. */
export async function imageTensor(image: DecodedImage, spec: Preprocess, box?: Box): Promise<ImageTensor> {
  const region = workingRegion(image, box);
  const pipeline = box ? rawInput(image).extract(region) : rawInput(image);
  // Working-copy pixels -> original pixels.
  const toOriginal = { fx: image.width / image.pixelWidth, fy: image.height / image.pixelHeight };
  return spec.resize === 'letterbox-top-left'
    ? letterboxTensor(pipeline, region, toOriginal, spec)
    : centerCropTensor(pipeline, region, toOriginal, spec);
}

async function centerCropTensor(pipeline: Sharp, region: Region, { fx, fy }: { fx: number; fy: number }, spec: CropSpec): Promise<ImageTensor> {
  const s = spec.resizeTo / Math.min(region.width, region.height);
  const w = Math.max(spec.crop, Math.round(region.width * s));
  const h = Math.max(spec.crop, Math.round(region.height * s));
  const left = Math.round((w - spec.crop) / 2);
  const top = Math.round((h - spec.crop) / 2);
  const rgb = await pipeline
    .resize(w, h, { fit: 'fill', kernel: spec.kernel })
    .extract({ left, top, width: spec.crop, height: spec.crop })
    .raw({ depth: 'uchar' })
    .toBuffer();
  const scaleX = (region.width / w) * fx;
  const scaleY = (region.height / h) * fy;
  return {
    data: planarize(rgb, { width: spec.crop, height: spec.crop }, spec.crop, spec),
    side: spec.crop,
    toOriginal: { scaleX, scaleY, offsetX: region.left * fx + left * scaleX, offsetY: region.top * fy + top * scaleY },
  };
}

async function letterboxTensor(pipeline: Sharp, region: Region, { fx, fy }: { fx: number; fy: number }, spec: LetterboxSpec): Promise<ImageTensor> {
  const r = Math.min(spec.size / region.width, spec.size / region.height);
  const w = Math.max(1, Math.min(spec.size, Math.round(region.width * r)));
  const h = Math.max(1, Math.min(spec.size, Math.round(region.height * r)));
  // The padding is written by planarize (a fill per plane), cheaper than having sharp extend the canvas.
  const rgb = await pipeline.resize(w, h, { fit: 'fill', kernel: spec.kernel }).raw({ depth: 'uchar' }).toBuffer();
  return {
    data: planarize(rgb, { width: w, height: h }, spec.size, spec, spec.padValue),
    side: spec.size,
    toOriginal: { scaleX: (region.width / w) * fx, scaleY: (region.height / h) * fy, offsetX: region.left * fx, offsetY: region.top * fy },
  };
}

const lookupTables = new WeakMap<Preprocess, Float32Array[]>();

/** Per tensor channel: the float for each byte value, ((v * scale) - mean) / std. */
function channelTables(spec: Preprocess): Float32Array[] {
  let tables = lookupTables.get(spec);
  if (!tables) {
    tables = [0, 1, 2].map((c) => {
      const table = new Float32Array(256);
      for (let v = 0; v < 256; v++) table[v] = (v * spec.scale - spec.mean[c]) / spec.std[c];
      return table;
    });
    lookupTables.set(spec, tables);
  }
  return tables;
}

/**
 * Interleaved RGB bytes (`size` pixels) -> planar float32 `side` x `side` in the manifest's channel order, the
 * image at the top-left and the rest of the canvas filled with `padValue`.
 */
export function planarize(rgb: Uint8Array, size: { width: number; height: number }, side: number, spec: Preprocess, padValue = 0): Float32Array {
  const [t0, t1, t2] = channelTables(spec);
  // Which interleaved byte feeds tensor plane 0 and 2 (plane 1 is green either way).
  const first = spec.channels === 'RGB' ? 0 : 2;
  const last = 2 - first;
  const plane = side * side;
  const out = new Float32Array(3 * plane);
  if (size.width < side || size.height < side) {
    out.fill(t0[padValue], 0, plane);
    out.fill(t1[padValue], plane, 2 * plane);
    out.fill(t2[padValue], 2 * plane);
  }
  for (let y = 0, j = 0; y < size.height; y++) {
    const row = y * side;
    for (let x = 0; x < size.width; x++, j += 3) {
      const i = row + x;
      out[i] = t0[rgb[j + first]];
      out[plane + i] = t1[rgb[j + 1]];
      out[2 * plane + i] = t2[rgb[j + last]];
    }
  }
  return out;
}

export interface WebpCopies {
  thumbnail: Buffer;
  /** Absent when it was not asked for (the original is shown as it is). */
  display?: Buffer;
}

/**
 * Thumbnail (longest side 256) and display copy (longest side 1600), never enlarged; the display copy only when
 * `display` is not false. WebP effort 0 instead of the default 4: measured here on the flower photos (CPU time per
 * image, thumbnail + display), effort 4 26 ms, effort 2 15 ms, effort 0 10 ms, for files 13-18 % larger than
 * effort 2 (about 2 KB each at this size). Encoding is the largest cost of ingest after inference and storage, so
 * the smaller effort wins.
 */
export async function webpCopies(
  image: DecodedImage,
  opts: { thumbnailSide?: number; displaySide?: number; display?: boolean } = {},
): Promise<WebpCopies> {
  const copy = (side: number, quality: number) =>
    rawInput(image)
      .resize({ width: side, height: side, fit: 'inside', withoutEnlargement: true })
      .webp({ quality, effort: 0 })
      .toBuffer();
  const [thumbnail, display] = await Promise.all([
    copy(opts.thumbnailSide ?? 256, 75),
    opts.display === false ? undefined : copy(opts.displaySide ?? 1600, 82),
  ]);
  return display ? { thumbnail, display } : { thumbnail };
}

/** Formats every browser shows from the bytes alone (the API serves them with this content type forced). */
const SHOWN_AS_IS: ReadonlySet<string> = new Set(['jpeg', 'png', 'webp']);
/** Largest original shown as it is, in bytes, and the bytes per pixel it may spend beyond a small allowance. */
const MAX_SHOWN_BYTES = 2 * 1024 * 1024;
const SHOWN_BYTES_PER_PIXEL = 2;
const SHOWN_BYTES_ALLOWANCE = 64 * 1024;

/**
 * Whether labelers can be shown the uploaded file itself instead of a display copy: a still JPEG, PNG or WebP
 * (sniffed from its bytes, and decoded without error), upright as stored, without EXIF/XMP/IPTC metadata (it may
 * tell where a photo was taken; the copy leaves it out, so labelers never receive it), 8-bit sRGB or grey, no
 * larger than the display size, and not heavy for its size (big metadata blocks, trailing data or weak
 * compression: a WebP copy is then the smaller download). Such a file looks the same in every browser as the copy
 * would, so encoding and storing the copy (the largest ingest cost after inference) is skipped.
 */
export function originalIsDisplayable(bytes: Uint8Array, image: DecodedImage, displaySide = 1600): boolean {
  if (!SHOWN_AS_IS.has(image.format)) return false;
  if (image.metadata || (image.orientation !== undefined && image.orientation !== 1)) return false;
  if (image.pages !== 1 || (image.format === 'png' && isAnimatedPng(bytes))) return false;
  if (image.space !== 'srgb' && image.space !== 'b-w') return false;
  if (Math.max(image.width, image.height) > displaySide) return false;
  const pixels = image.width * image.height;
  return bytes.byteLength <= Math.min(MAX_SHOWN_BYTES, SHOWN_BYTES_ALLOWANCE + SHOWN_BYTES_PER_PIXEL * pixels);
}

/** An APNG announces its animation (acTL chunk) before the first image data; libvips reads only its first frame. */
export function isAnimatedPng(bytes: Uint8Array): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 8; at + 8 <= bytes.byteLength; ) {
    const type = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
    if (type === 'acTL') return true;
    if (type === 'IDAT' || type === 'IEND') return false;
    at += 12 + view.getUint32(at);
  }
  return false;
}
