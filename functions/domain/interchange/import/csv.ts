// The origin CSV (`filename,bbox,annotation,feat_idx`) -> import items, also reading the extended columns Winnow's
// CSV export writes: a confidence per class (`confidence_<class>`), `ambiguous`, `labeler`, the label's time
// (`labeled_at`, `time` or `at`) and the exact box (`x1,y1,x2,y2`, preferred over the whole-pixel bbox). A row
// without bbox labels the whole image, a row with one labels a box (`top-left-bottom-right` pixels,
// box-formats.ts). Rows that carry no label at all (empty class and confidence cells: an export that included
// unlabeled images) are passed over; confidences that are all 0 are a label ("none of the classes"). `feat_idx` is not read here: features go through `winnow import-features`.

import { boxFromOrigin } from '../box-formats.js';
import { parseCsvRecords, type CsvRecord } from '../csv-records.js';
import type { Box } from '../../model.js';
import type { ImportItem } from '../model.js';
import { csvCellValue } from '../names.js';
import { classesOf, problemRow, type ParsedAnnotations } from './parsed.js';

const CONFIDENCE_COLUMN = /^(?:confidence|conf)[_:](.+)$/i;
const TRUE = new Set(['true', '1', 'yes', 'y']);
const FALSE = new Set(['false', '0', 'no', 'n', '']);

interface Columns {
  byName: Map<string, number>;
  confidences: { name: string; index: number }[];
}

function columnsOf(header: CsvRecord): Columns {
  const byName = new Map<string, number>();
  const confidences: Columns['confidences'] = [];
  header.fields.forEach((raw, index) => {
    const name = csvCellValue(raw.trim());
    byName.set(name.toLowerCase(), index);
    const m = CONFIDENCE_COLUMN.exec(name);
    if (m) confidences.push({ name: m[1], index });
  });
  return { byName, confidences };
}

export function parseOriginCsv(text: string, source: string): ParsedAnnotations {
  const fail = (problem: string): ParsedAnnotations => ({ items: [], classes: [], problems: [problemRow(source, '', 'unreadable', problem)] });
  let records: CsvRecord[];
  try {
    records = parseCsvRecords(text);
  } catch (err) {
    return fail((err as Error).message);
  }
  const header = records.shift();
  if (!header) return fail('the file is empty: expected a header line filename,bbox,annotation,...');
  const columns = columnsOf(header);
  const col = (...names: string[]) => names.map((n) => columns.byName.get(n)).find((i) => i !== undefined);
  const fileAt = col('filename', 'file');
  if (fileAt === undefined) return fail(`line ${header.line}: the header needs a "filename" column (found: ${header.fields.join(', ')})`);
  const bboxAt = col('bbox');
  const annotationAt = col('annotation', 'label', 'class');
  const ambiguousAt = col('ambiguous');
  const labelerAt = col('labeler', 'labeler_id', 'labelerid');
  const timeAt = col('time', 'at', 'labeled_at');
  const scoreAt = col('score');
  const exactAt = ['x1', 'y1', 'x2', 'y2'].map((n) => col(n));

  const items = new Map<string, ImportItem>();
  const seen = new Map<string, number>(); // file + bbox -> line, for duplicates
  const problems: ParsedAnnotations['problems'] = [];
  for (const r of records) {
    const where = `${source} line ${r.line}`;
    const cell = (at: number | undefined) => (at === undefined ? '' : csvCellValue((r.fields[at] ?? '').trim()));
    const file = cell(fileAt);
    const problem = (code: Parameters<typeof problemRow>[2], why: string) => problems.push(problemRow(where, file, code, why));
    if (r.fields.length !== header.fields.length) {
      problem('unreadable', `${r.fields.length} fields, the header has ${header.fields.length} (quote fields that contain commas)`);
      continue;
    }
    if (!file) {
      problem('unreadable', 'filename is empty');
      continue;
    }
    const bboxText = cell(bboxAt);
    const exact = exactAt.map((at) => cell(at));
    // Winnow's export adds the exact box (x1..y2) beside the whole-pixel bbox: the exact one wins.
    const box = exact.every((v) => v !== '' && Number.isFinite(Number(v))) ? (exact.map(Number) as Box) : bboxText ? boxFromOrigin(bboxText) : undefined;
    if (bboxText && !box) {
      problem('unreadable', `bbox "${bboxText}" is not top_row-left_col-bottom_row-right_col in pixels (e.g. 10-20-110-220)`);
      continue;
    }
    const ambiguousText = cell(ambiguousAt).toLowerCase();
    if (!TRUE.has(ambiguousText) && !FALSE.has(ambiguousText)) {
      problem('unreadable', `ambiguous "${ambiguousText}" is not true or false`);
      continue;
    }
    const confidences: { name: string; confidence: number }[] = [];
    let badConfidence: string | undefined;
    let confidenceCells = false;
    for (const c of columns.confidences) {
      const value = cell(c.index);
      if (value === '') continue;
      confidenceCells = true;
      const n = Number(value);
      if (!(n >= 0 && n <= 1)) badConfidence ??= `confidence_${c.name} "${value}" is not a number from 0 to 1`;
      else if (n > 0) confidences.push({ name: c.name, confidence: n });
    }
    if (badConfidence) {
      problem('unreadable', badConfidence);
      continue;
    }
    const annotation = cell(annotationAt);
    const ambiguous = TRUE.has(ambiguousText);
    const classes = confidences.length ? confidences : annotation ? [{ name: annotation, confidence: 1 }] : [];
    // Confidence cells all 0 still say "labeled: none of the classes"; empty cells say nothing (unlabeled).
    if (classes.length === 0 && !ambiguous && !confidenceCells) continue;

    const key = `${file}\n${box?.join(',') ?? ''}`;
    if (seen.has(key)) {
      problem('duplicate', `same filename${box ? ' and bbox' : ''} as line ${seen.get(key)}`);
      continue;
    }
    seen.set(key, r.line);
    let item = items.get(file);
    if (!item) {
      item = { source: where, file, boxes: [] };
      items.set(file, item);
    }
    if (box) {
      // A box takes its class from `annotation`, else from its highest confidence.
      const top = annotation || [...confidences].sort((a, b) => b.confidence - a.confidence)[0]?.name;
      if (!top) {
        problem('unreadable', 'a labeled box row needs a class in "annotation" or a confidence above 0');
        continue;
      }
      const score = Number(cell(scoreAt));
      item.boxes.push({ source: `line ${r.line}`, class: top, box, ...(cell(scoreAt) && Number.isFinite(score) ? { score } : {}) });
    } else {
      item.source = where;
      if (classes.length) item.classes = classes;
      if (ambiguous) item.ambiguous = true;
      if (!classes.length && !ambiguous) item.empty = true;
      const labeler = cell(labelerAt);
      const at = cell(timeAt);
      if (labeler) item.labelerId = labeler;
      if (at) item.at = at;
    }
  }
  const parsed = [...items.values()];
  return { items: parsed, classes: mergeConfidenceOrder(columns.confidences.map((c) => c.name), classesOf(parsed)), problems };
}

/** The export's confidence columns are in project class order: that order first, then any other named class. */
function mergeConfidenceOrder(columnClasses: string[], seen: string[]): string[] {
  const known = new Set(columnClasses.map((c) => c.toLowerCase()));
  return [...columnClasses, ...seen.filter((c) => !known.has(c.toLowerCase()))];
}
