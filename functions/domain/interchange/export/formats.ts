// The export formats: how each is written and what file it becomes. Formats with one file per image, or several
// files, are always a ZIP archive; CSV and JSON Lines are a plain file unless images go with them.

import type { Project } from '../../model.js';
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
  /** The format carries boxes only: image-level labels have no place in it (YOLO detection, Pascal VOC). */
  boxesOnly?: boolean;
  write(ctx: ExportContext, out: ExportEntries, opts: { embeddingModel: string }): Promise<void>;
}

export const FORMATS: Record<ExportFormat, FormatSpec> = {
  coco: { title: 'COCO JSON (boxes; image-level labels in labels.json)', write: (ctx, out) => writeCoco(ctx, out) },
  voc: { title: 'Pascal VOC XML, one file per image', boxesOnly: true, write: (ctx, out) => writeVoc(ctx, out) },
  yolo: { title: 'YOLO txt per image + data.yaml', boxesOnly: true, write: (ctx, out) => writeYolo(ctx, out) },
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

/** The formats that carry image-level (classification) labels. */
export const IMAGE_LABEL_FORMATS: readonly ExportFormat[] = EXPORT_FORMATS.filter((f) => !FORMATS[f].boxesOnly);

/** A project has boxes to export when it reviews boxes or detects them at ingest (each box is then a sample). */
export function projectHasBoxes(project: Pick<Project, 'taskType' | 'detection'>): boolean {
  return project.taskType === 'box-review' || project.detection?.enabled === true;
}

/**
 * Why `format` cannot export this project, or undefined when it can. A classification project's labels written as
 * YOLO or VOC would be empty label files / XML without objects: a trainer would read every image as background.
 */
export function formatRefusal(project: Pick<Project, 'taskType' | 'detection'>, format: ExportFormat): string | undefined {
  if (!FORMATS[format].boxesOnly || projectHasBoxes(project)) return undefined;
  return (
    `${format} carries boxes only, and this ${project.taskType} project has image-level labels: every image would ` +
    `read as background. Export it as ${IMAGE_LABEL_FORMATS.join(', ')} (folders is the usual layout for ` +
    'training a classifier)'
  );
}
