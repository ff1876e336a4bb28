// YOLO (Ultralytics / Darknet) -> import items. Class names come from `data.yaml` (`names:` as a list or as an
// index -> name map) or a Darknet names file (`classes.txt`, `obj.names`: one name per line). Each label file
// `labels/<split>/<stem>.txt` belongs to the image `images/<split>/<stem>.<any extension>`; each line is
// `class cx cy w h [confidence]`, fractions of the image size, converted to pixels against the image's real size
// when the import is planned (box-formats.ts). An optional sixth value (Ultralytics `save_conf`) is the score.

import { parse as parseYaml } from 'yaml';
import { boxFromYolo } from '../box-formats.js';
import type { ImportItem } from '../model.js';
import { problemRow, type ParsedAnnotations } from './parsed.js';

export interface YoloNames {
  names: string[];
  problems: ParsedAnnotations['problems'];
}

/** `names` from a data.yaml: a list, or a map from index to name. */
export function parseYoloYaml(text: string, source: string): YoloNames {
  const fail = (problem: string): YoloNames => ({ names: [], problems: [problemRow(source, '', 'unreadable', problem)] });
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    return fail(`not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const names = (doc as { names?: unknown } | null)?.names;
  if (Array.isArray(names) && names.every((n) => typeof n === 'string' || typeof n === 'number')) return { names: names.map(String), problems: [] };
  if (names && typeof names === 'object' && !Array.isArray(names)) {
    const entries = Object.entries(names as Record<string, unknown>);
    const list: string[] = [];
    for (const [index, name] of entries) {
      if (!/^\d+$/.test(index) || (typeof name !== 'string' && typeof name !== 'number')) return fail(`names: "${index}: ${String(name)}" is not "index: name"`);
      list[Number(index)] = String(name);
    }
    const gap = Array.from({ length: list.length }, (_, i) => i).find((i) => list[i] === undefined);
    if (gap !== undefined) return fail(`names: no name for class ${gap}`);
    return { names: list, problems: [] };
  }
  return fail('no "names" list (expected e.g. names: [RBC, WBC, Platelets])');
}

/** A Darknet names file: one class name per line. */
export function parseYoloNamesFile(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
}

/** `labels/train/x.txt` -> `images/train/x` (the image's extension is not known from the label file). */
export function imageStemForLabel(labelPath: string): string {
  const parts = labelPath.replace(/\\/g, '/').split('/');
  const at = parts.lastIndexOf('labels');
  if (at >= 0 && at < parts.length - 1) parts[at] = 'images';
  return parts.join('/').replace(/\.txt$/i, '');
}

/** One label file; `source` is its path (relative to the dataset root), which also names the image. */
export function parseYoloLabels(text: string, source: string, names: string[]): ParsedAnnotations {
  const file = imageStemForLabel(source);
  const item: ImportItem = { source, file, extensionUnknown: true, boxes: [] };
  const problems: ParsedAnnotations['problems'] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const where = `line ${i + 1}`;
    const fields = line.split(/\s+/);
    if (fields.length !== 5 && fields.length !== 6) {
      const what = fields.length > 6 ? ' (polygons are not supported: export boxes)' : '';
      return problems.push(problemRow(`${source} ${where}`, file, 'unreadable', `expected "class cx cy w h [confidence]", got ${fields.length} values${what}`));
    }
    const values = fields.map(Number);
    if (!values.every(Number.isFinite)) return problems.push(problemRow(`${source} ${where}`, file, 'unreadable', `"${line}" is not all numbers`));
    const [cls, cx, cy, w, h, score] = values;
    if (!Number.isInteger(cls) || cls < 0 || cls >= names.length) {
      const known = names.length ? `${names.length} names (0..${names.length - 1}: ${names.join(', ')})` : 'no class names (data.yaml missing?)';
      return problems.push(problemRow(`${source} ${where}`, file, 'unknown_class', `class ${fields[0]} is not one of the ${known}`));
    }
    // Kept as fractions of the image ([x1, y1, x2, y2] of a 1 x 1 image) until the image's size is known.
    item.boxes.push({ source: where, class: names[cls], box: boxFromYolo([cx, cy, w, h], 1, 1), normalized: true, ...(score !== undefined ? { score } : {}) });
  });
  // An empty label file is YOLO's "background image": labeled, nothing on it.
  if (item.boxes.length === 0 && problems.length === 0) item.empty = true;
  return { items: [item], classes: names, problems };
}
