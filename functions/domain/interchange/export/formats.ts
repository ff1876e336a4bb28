// The export formats: how each is written and what file it becomes. Formats with one file per image, or several
// files, are always a ZIP archive; CSV and JSON Lines are a plain file unless images go with them.

import type { ExportContext } from './context.js';
import { writeCoco } from './coco.js';
import { writeCsv } from './csv.js';
import { writeEmbeddings } from './embeddings.js';
import { writeFolders } from './folders.js';
import { writeJsonl } from './jsonl.js';
import type { ExportEntries } from './ports.js';
import { writeVoc } from './voc.js';
import { writeYolo } from './yolo.js';

export const EXPORT_FORMATS = ['coco', 'voc', 'yolo', 'csv', 'jsonl', 'folders', 'embeddings'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface FormatSpec {
  /** What the format is for, in the words of the API and the web panel. */
  title: string;
  /** A plain file when images are left out (its one entry's name gives the extension); else always a ZIP. */
  single?: { extension: string; contentType: string };
  /** The format is nothing without the images (class folders). */
  needsImages?: boolean;
  write(ctx: ExportContext, out: ExportEntries, opts: { embeddingModel: string }): Promise<void>;
}

export const FORMATS: Record<ExportFormat, FormatSpec> = {
  coco: { title: 'COCO JSON (boxes; image-level labels in labels.json)', write: (ctx, out) => writeCoco(ctx, out) },
  voc: { title: 'Pascal VOC XML, one file per image', write: (ctx, out) => writeVoc(ctx, out) },
  yolo: { title: 'YOLO txt per image + data.yaml', write: (ctx, out) => writeYolo(ctx, out) },
  csv: {
    title: 'CSV (filename,bbox,annotation,feat_idx + confidences, ambiguous, labeler, time)',
    single: { extension: 'csv', contentType: 'text/csv; charset=utf-8' },
    write: (ctx, out) => writeCsv(ctx, out),
  },
  jsonl: {
    title: 'JSON Lines, SageMaker Ground Truth output manifest',
    single: { extension: 'manifest', contentType: 'application/x-ndjson' },
    write: (ctx, out) => writeJsonl(ctx, out),
  },
  folders: { title: 'Class folders for classification training', needsImages: true, write: (ctx, out) => writeFolders(ctx, out) },
  embeddings: {
    title: 'Embeddings: features.npy (float32) + labels.csv index',
    write: (ctx, out, opts) => writeEmbeddings(ctx, out, opts.embeddingModel),
  },
};

export const ZIP_CONTENT_TYPE = 'application/zip';
