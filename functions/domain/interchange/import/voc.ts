// Pascal VOC XML (one file per image) -> an import item. `<folder>/<filename>` names the image (the folder is
// often the dataset's name rather than a real folder, so matching falls back to the bare file name), `<size>` its
// size, each `<object>` a box: `<name>` and `<bndbox>` xmin/ymin/xmax/ymax (VOC's 1-based inclusive corners,
// converted in box-formats.ts). A file without objects says the image has none (labelImg and Winnow write one).
// An optional `<score>` (or `<confidence>`) per object, as detectors write it, is kept for proposals.

import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { boxFromVoc } from '../box-formats.js';
import type { ImportBox, ImportItem } from '../model.js';
import { classesOf, problemRow, type ParsedAnnotations } from './parsed.js';

type Node = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false, // numbers are parsed here, with a message when one is not
  isArray: (_name, jpath) => jpath === 'annotation.object',
});

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : undefined);
const number = (v: unknown): number | undefined => {
  const t = text(v);
  return t !== undefined && t !== '' && Number.isFinite(Number(t)) ? Number(t) : undefined;
};

export function parseVoc(xml: string, source: string): ParsedAnnotations {
  const fail = (problem: string): ParsedAnnotations => ({ items: [], classes: [], problems: [problemRow(source, '', 'unreadable', problem)] });
  // VOC files never declare entities; refusing them rules out entity-expansion tricks.
  if (/<!(DOCTYPE|ENTITY)/i.test(xml)) return fail('XML with a DOCTYPE or ENTITY declaration is not accepted');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) return fail(`not well-formed XML (line ${valid.err.line}): ${valid.err.msg}`);
  const root = (parser.parse(xml) as Node).annotation as Node | undefined;
  if (!root || typeof root !== 'object') return fail('not a Pascal VOC file: no <annotation> element');
  const filename = text(root.filename);
  if (!filename) return fail('<filename> is missing');
  const folder = text(root.folder);
  const file = folder && !filename.includes('/') && !filename.includes('\\') ? `${folder}/${filename}` : filename;
  const item: ImportItem = { source, file, boxes: [] };
  const size = (root.size ?? {}) as Node;
  const width = number(size.width);
  const height = number(size.height);
  // Some tools write 0 when they did not know the size: that is "unknown", not a mismatch.
  if (width && height) Object.assign(item, { width, height });

  const problems: ParsedAnnotations['problems'] = [];
  ((root.object ?? []) as Node[]).forEach((object, k) => {
    const where = `object ${k + 1}`;
    const name = text(object?.name);
    if (!name) return problems.push(problemRow(`${source} ${where}`, file, 'unreadable', '<name> is missing'));
    const bnd = (object.bndbox ?? {}) as Node;
    const [xmin, ymin, xmax, ymax] = ['xmin', 'ymin', 'xmax', 'ymax'].map((k) => number(bnd[k]));
    if (xmin === undefined || ymin === undefined || xmax === undefined || ymax === undefined) {
      return problems.push(problemRow(`${source} ${where}`, file, 'unreadable', '<bndbox> needs numeric xmin, ymin, xmax and ymax'));
    }
    const box: ImportBox = { source: where, class: name, box: boxFromVoc({ xmin, ymin, xmax, ymax }) };
    const score = number(object.score) ?? number(object.confidence);
    if (score !== undefined) box.score = score;
    item.boxes.push(box);
  });
  if (!root.object) item.empty = true;
  return { items: [item], classes: classesOf([item]), problems };
}
