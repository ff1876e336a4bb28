// CSV in the origin annotator's format, `filename,bbox,annotation,feat_idx`, extended (columns after the first
// four are ignored by tools that only know the origin format):
//
//   filename, bbox, annotation, feat_idx, confidence_<class>..., ambiguous, labeler, labeled_at,
//   sample_id, kind, x1, y1, x2, y2
//
// One row per sample: the whole image (bbox empty), then each box. `bbox` is the origin's
// `top_row-left_col-bottom_row-right_col` in whole pixels of the upright image (rounded: within 0.5 px);
// x1, y1, x2, y2 give the exact box (left, top, right, bottom; right/bottom exclusive). `annotation` is the class
// with the highest confidence (empty when none); the confidence columns carry every class (multi-label).
// `filename` is the image's path relative to the CSV: `images/<file>` inside an archive with images, else the
// upload path (your own folder's layout). `feat_idx` is the row in features.npy (embeddings export), else empty.
// Every text cell goes through csvCell (formula injection neutralised, RFC 4180 quoting).

import { topClass } from '../../label-validation.js';
import type { Box, Project } from '../../model.js';
import { boxToOrigin } from '../box-formats.js';
import { csvCell } from '../names.js';
import type { ExportContext } from './context.js';
import { exportImages, px } from './context.js';
import { copyImages } from './archive-images.js';
import type { ExportImage } from './images.js';
import { ExportNamer } from './naming.js';
import type { ExportEntries } from './ports.js';

export interface CsvRow {
  sampleId: string;
  kind: 'image' | 'box';
  box?: Box;
  confidences?: number[];
  ambiguous?: boolean;
  labelerId?: string;
  at?: string;
}

export async function writeCsv(ctx: ExportContext, out: ExportEntries): Promise<void> {
  const names = new Map<string, { name: string; key: string }>();
  await out.add('labels.csv', csvFile(ctx, names));
  await copyImages(ctx, out, [...names].map(([imageId, { name, key }]) => ({ path: `images/${name}`, imageId, key })));
}

async function* csvFile(ctx: ExportContext, names: Map<string, { name: string; key: string }>): AsyncGenerator<string> {
  yield csvHeader(ctx.project);
  const namer = ctx.images ? new ExportNamer() : undefined;
  for await (const image of exportImages(ctx)) {
    let filename = image.file;
    if (namer) {
      const name = namer.name(image);
      names.set(image.imageId, { name, key: image.key });
      filename = `images/${name}`;
    }
    countImage(ctx, image);
    yield csvRows(ctx.project, image).map((row) => csvLine(ctx.project, filename, row)).join('');
  }
}

export function countImage(ctx: ExportContext, image: ExportImage): void {
  ctx.counts.images++;
  ctx.counts.boxes += image.boxes.length;
  if (image.label) ctx.counts.labels++;
}

export function csvHeader(project: Project): string {
  return (
    [
      'filename', 'bbox', 'annotation', 'feat_idx',
      ...project.classes.map((c) => `confidence_${c}`),
      'ambiguous', 'labeler', 'labeled_at', 'sample_id', 'kind', 'x1', 'y1', 'x2', 'y2',
    ].map(csvCell).join(',') + '\n'
  );
}

/** The image's samples as rows: the image label, each labeled box, then (include "all") unlabeled samples. */
export function csvRows(project: Project, image: ExportImage): CsvRow[] {
  const rows: CsvRow[] = [];
  if (image.label) {
    const l = image.label;
    rows.push({ sampleId: l.sampleId, kind: 'image', confidences: l.confidences, ambiguous: l.ambiguous, labelerId: l.labelerId, at: l.at });
  }
  for (const b of image.boxes) {
    rows.push({
      sampleId: b.sampleId ?? '',
      kind: 'box',
      box: b.box,
      // Box-review boxes carry a class, not confidences: certain of that class, nothing else.
      confidences: b.confidences ?? project.classes.map((_, i) => (i === b.classIndex ? 1 : 0)),
      ambiguous: b.ambiguous ?? false,
      labelerId: b.labelerId,
      at: b.at,
    });
  }
  for (const u of image.unlabeled) rows.push({ sampleId: u.sampleId, kind: u.kind, ...(u.box ? { box: u.box } : {}) });
  return rows;
}

export function csvLine(project: Project, filename: string, row: CsvRow, featIdx?: number): string {
  const confidences = row.confidences;
  const top = confidences ? topClass(confidences) : -1;
  const cells = [
    csvCell(filename),
    row.box ? boxToOrigin(row.box) : '',
    top >= 0 ? csvCell(project.classes[top]) : '',
    featIdx === undefined ? '' : String(featIdx),
    ...project.classes.map((_, i) => (confidences ? csvCell(confidences[i] ?? 0) : '')),
    confidences ? csvCell(row.ambiguous ?? false) : '',
    csvCell(row.labelerId),
    csvCell(row.at),
    csvCell(row.sampleId),
    row.kind,
    ...(row.box ? row.box.map((v) => csvCell(px(v))) : ['', '', '', '']),
  ];
  return cells.join(',') + '\n';
}
