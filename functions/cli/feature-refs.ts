// The references CSV of bring-your-own features (the format of the active-learning annotator Winnow replaces):
//
//   filename,bbox,annotation,feat_idx
//   images/49.jpg,,forest,0          whole image, labeled "forest", features in row 0 of the .npy
//   images/48.jpg,,,1                whole image, unlabeled
//   images/48.jpg,12-40-200-310,,2   a box in that image, unlabeled
//
// `filename` and `feat_idx` are required columns, `bbox` and `annotation` optional (columns and cells). RFC 4180:
// fields may be quoted ("a,b" and doubled quotes ""), lines end in LF or CRLF, the header comes first.
//
// bbox is `top_row-left_col-bottom_row-right_col` in pixels of the image file: four whole numbers, rows counted
// down from the top edge, columns from the left edge (the origin's documentation was inconsistent; its code reads
// the numbers in exactly this order). Winnow stores a box as [x1, y1, x2, y2] = [left_col, top_row, right_col,
// bottom_row], so the CSV's `t-l-b-r` becomes [l, t, r, b].

import { parseCsvRecords, type CsvRecord } from '../domain/interchange/csv-records.js';
import type { Box } from '../domain/model.js';

export interface FeatureRef {
  /** 1-based line of the record in the file (the header is line 1). */
  line: number;
  filename: string;
  box?: Box;
  annotation?: string;
  featIdx: number;
}

export { parseCsvRecords, type CsvRecord } from '../domain/interchange/csv-records.js';

const BBOX = /^(\d+)-(\d+)-(\d+)-(\d+)$/;

/** `top_row-left_col-bottom_row-right_col` -> Winnow's [left, top, right, bottom]; throws a reason. */
export function boxFromCsv(text: string): Box {
  const m = BBOX.exec(text.trim());
  if (!m) throw new Error(`bbox "${text}" must be top_row-left_col-bottom_row-right_col, four whole pixel numbers (e.g. 10-20-110-220)`);
  const [top, left, bottom, right] = m.slice(1).map(Number);
  if (!(bottom > top)) throw new Error(`bbox "${text}": bottom_row ${bottom} must be below top_row ${top}`);
  if (!(right > left)) throw new Error(`bbox "${text}": right_col ${right} must be right of left_col ${left}`);
  return [left, top, right, bottom];
}

export class RefsError extends Error {
  constructor(readonly problems: string[]) {
    const shown = problems.slice(0, 20);
    const more = problems.length > shown.length ? `\n  ... and ${problems.length - shown.length} more` : '';
    super(`${problems.length} problem(s) in the references:\n  ${shown.join('\n  ')}${more}`);
    this.name = 'RefsError';
  }
}

/** Reads and checks every row (all problems at once, each with its line); `matrixRows` bounds feat_idx. */
export function parseFeatureRefs(text: string, matrixRows: number): FeatureRef[] {
  const records = parseCsvRecords(text);
  const header = records.shift();
  if (!header) throw new RefsError(['the file is empty: expected a header line filename,bbox,annotation,feat_idx']);
  const column = new Map(header.fields.map((name, i) => [name.trim().toLowerCase(), i]));
  const missing = ['filename', 'feat_idx'].filter((c) => !column.has(c));
  if (missing.length) {
    throw new RefsError([`line ${header.line}: the header needs the column(s) ${missing.join(', ')} (found: ${header.fields.join(', ')})`]);
  }
  if (records.length === 0) throw new RefsError(['no rows after the header']);
  const problems: string[] = [];
  const refs: FeatureRef[] = [];
  const bySample = new Map<string, number>();
  const byIndex = new Map<number, number>();
  const cell = (r: CsvRecord, name: string) => {
    const at = column.get(name);
    return at === undefined ? '' : (r.fields[at] ?? '').trim();
  };
  for (const r of records) {
    const problem = (why: string) => problems.push(`line ${r.line}: ${why}`);
    if (r.fields.length !== header.fields.length) {
      problem(`${r.fields.length} fields, the header has ${header.fields.length} (quote fields that contain commas)`);
      continue;
    }
    const filename = cell(r, 'filename');
    if (!filename) problem('filename is empty');
    const idxText = cell(r, 'feat_idx');
    const featIdx = /^\d+$/.test(idxText) ? Number(idxText) : NaN;
    if (!Number.isSafeInteger(featIdx)) problem(`feat_idx "${idxText}" is not a whole number`);
    else if (featIdx >= matrixRows) problem(`feat_idx ${featIdx} is out of range: the features matrix has ${matrixRows} rows (0..${matrixRows - 1})`);
    let box: Box | undefined;
    const bbox = cell(r, 'bbox');
    if (bbox) {
      try {
        box = boxFromCsv(bbox);
      } catch (err) {
        problem((err as Error).message);
      }
    }
    const annotation = cell(r, 'annotation') || undefined;
    const sampleKey = `${filename}\n${box?.join(',') ?? ''}`;
    if (filename && bySample.has(sampleKey)) problem(`same filename and bbox as line ${bySample.get(sampleKey)}`);
    bySample.set(sampleKey, r.line);
    if (Number.isSafeInteger(featIdx) && byIndex.has(featIdx)) problem(`feat_idx ${featIdx} is used by line ${byIndex.get(featIdx)} too`);
    byIndex.set(featIdx, r.line);
    refs.push({ line: r.line, filename, ...(box ? { box } : {}), ...(annotation ? { annotation } : {}), featIdx });
  }
  if (problems.length) throw new RefsError(problems);
  return refs;
}
