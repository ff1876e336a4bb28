// COCO JSON -> import items. `images[].file_name` names the file (relative to the dataset root), `width`/`height`
// its size; each annotation with a `bbox` ([x, y, w, h] pixels) is a box of `category_id`, its `score` (detector
// output files) kept for proposals; an annotation without a bbox is an image-level class (classification, the
// "labels" task of Datumaro/CVAT), with its `confidence` (or `attributes.confidence`) when given, else 1.
// `attributes.ambiguous` (Winnow's export) marks the image's label ambiguous.

import { boxFromCoco } from '../box-formats.js';
import type { ImportItem } from '../model.js';
import { isFiniteNumber, problemRow, type ParsedAnnotations } from './parsed.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseCoco(text: string, source: string): ParsedAnnotations {
  const fail = (problem: string): ParsedAnnotations => ({ items: [], classes: [], problems: [problemRow(source, '', 'unreadable', problem)] });
  let doc: unknown;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    return fail(`not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc) || !Array.isArray(doc.images)) return fail('not a COCO file: no "images" list');
  const problems: ParsedAnnotations['problems'] = [];

  const categories = new Map<unknown, string>();
  (Array.isArray(doc.categories) ? doc.categories : []).forEach((c, i) => {
    if (isObject(c) && typeof c.name === 'string' && c.name.trim() && (typeof c.id === 'number' || typeof c.id === 'string')) categories.set(c.id, c.name.trim());
    else problems.push(problemRow(`${source} categories[${i}]`, '', 'unreadable', 'a category needs an "id" and a "name"'));
  });

  const items = new Map<unknown, ImportItem>();
  const ordered: ImportItem[] = [];
  doc.images.forEach((image, i) => {
    const where = `${source} images[${i}]`;
    if (!isObject(image) || typeof image.file_name !== 'string' || !image.file_name.trim()) {
      problems.push(problemRow(where, '', 'unreadable', 'an image needs a "file_name"'));
      return;
    }
    const item: ImportItem = { source: `${where} (id ${String(image.id)})`, file: image.file_name.trim(), boxes: [] };
    if (isFiniteNumber(image.width) && image.width > 0) item.width = image.width;
    if (isFiniteNumber(image.height) && image.height > 0) item.height = image.height;
    if (typeof image.ambiguous === 'boolean') item.ambiguous = image.ambiguous;
    if (items.has(image.id)) {
      problems.push(problemRow(where, item.file, 'duplicate', `image id ${String(image.id)} is used by an earlier image too`));
      return;
    }
    items.set(image.id, item);
    ordered.push(item);
  });

  (Array.isArray(doc.annotations) ? doc.annotations : []).forEach((a, i) => {
    const where = `${source} annotations[${i}]`;
    if (!isObject(a)) return problems.push(problemRow(where, '', 'unreadable', 'not an object'));
    const item = items.get(a.image_id);
    if (!item) return problems.push(problemRow(where, '', 'unreadable', `image_id ${String(a.image_id)} is not in "images"`));
    const name = categories.get(a.category_id);
    if (name === undefined) {
      return problems.push(problemRow(where, item.file, 'unknown_class', `category_id ${String(a.category_id)} is not in "categories"`));
    }
    const attributes = isObject(a.attributes) ? a.attributes : {};
    // Winnow's export (and CVAT's) put the label's ambiguous flag on each of its annotations.
    if (attributes.ambiguous === true) item.ambiguous = true;
    const bbox = a.bbox;
    if (bbox === undefined || bbox === null || (Array.isArray(bbox) && bbox.length === 0)) {
      const given = a.confidence ?? attributes.confidence;
      (item.classes ??= []).push({ name, confidence: isFiniteNumber(given) ? given : 1 });
      return;
    }
    if (!Array.isArray(bbox) || bbox.length !== 4 || !bbox.every(isFiniteNumber)) {
      return problems.push(problemRow(where, item.file, 'unreadable', `bbox ${JSON.stringify(bbox)} is not [x, y, width, height] in pixels`));
    }
    item.boxes.push({ source: `annotations[${i}]`, class: name, box: boxFromCoco(bbox), ...(isFiniteNumber(a.score) ? { score: a.score } : {}) });
  });

  return { items: ordered, classes: [...categories.values()], problems };
}
