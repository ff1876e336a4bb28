// What every format writer gets: the project, the filter, where originals and embeddings come from, and counters
// that the job reports as progress.

import { topClass } from '../../label-validation.js';
import type { Box, Project } from '../../model.js';
import type { Stores } from '../../ports.js';
import type { ExportFilter } from '../model.js';
import { labeledImages, type ExportImage } from './images.js';
import type { EmbeddingSource, ImageFiles } from './ports.js';

export interface ExportCounts {
  /** Images written (annotation entries, or image files for formats without per-image annotations). */
  images: number;
  /** Boxes written. */
  boxes: number;
  /** Image-level labels written. */
  labels: number;
  /** Original image files copied into the archive. */
  files: number;
  /** Images re-encoded upright because of their EXIF orientation. */
  rotated: number;
  /** Embedding rows written (embeddings format). */
  rows: number;
}

export const emptyCounts = (): ExportCounts => ({ images: 0, boxes: 0, labels: 0, files: 0, rotated: 0, rows: 0 });

export interface ExportContext {
  stores: Stores;
  project: Project;
  filter: ExportFilter;
  /** Originals to copy into the archive; absent when the export leaves images out. */
  images?: ImageFiles;
  /** Embedding vectors (embeddings format). */
  embeddings?: EmbeddingSource;
  /** Bucket holding the originals, for `s3://` references (JSON Lines). */
  bucket?: string;
  counts: ExportCounts;
  /** Called often (per image); the job uses it to report progress at a bounded rate. */
  tick(): Promise<void>;
}

/** One pass over the project's labels under the export's filter, with clamped boxes. */
export async function* exportImages(ctx: ExportContext): AsyncGenerator<ExportImage> {
  for await (const image of labeledImages(ctx.stores, ctx.project, ctx.filter)) {
    image.boxes = image.boxes.flatMap((b) => {
      const box = clampBox(b.box, image.width, image.height);
      return box ? [{ ...b, box }] : [];
    });
    yield image;
    await ctx.tick();
  }
}

/**
 * A box inside the image (labelers can drag an edge a little past it; detectors too): trainers reject or clip
 * coordinates outside [0, size], so every format gets the clipped box. Undefined when nothing is left.
 */
export function clampBox([x1, y1, x2, y2]: Box, width: number, height: number): Box | undefined {
  const box: Box = [clamp(x1, width), clamp(y1, height), clamp(x2, width), clamp(y2, height)];
  return box[2] > box[0] && box[3] > box[1] ? box : undefined;
}

const clamp = (v: number, max: number) => Math.min(Math.max(v, 0), max);

/**
 * The classes an image-level label asserts, for formats that list classes rather than confidences (COCO labels,
 * JSON Lines, class folders): single-label, the class the labeler chose; multi-label, every class given at
 * least 0.5. The CSV keeps every confidence.
 */
export function assertedClasses(project: Project, confidences: number[]): number[] {
  if (project.taskType === 'single-label') {
    const top = topClass(confidences);
    return top >= 0 ? [top] : [];
  }
  return confidences.flatMap((c, i) => (c >= 0.5 ? [i] : []));
}

/** Pixel values rounded to 1e-4 px: exact for whole pixels, no float noise (110.7 - 10.3 = 100.4, not 100.39999). */
export const px = (v: number) => Math.round(v * 1e4) / 1e4;

/** Normalised values with 6 decimals (YOLO's convention): under 0.01 px of error up to 10,000 px. */
export const unit = (v: number) => Number(v.toFixed(6));
