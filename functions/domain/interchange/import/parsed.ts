// What every format parser returns: the items it could read, the class names the file defines (to create a
// project from), and a failed report row for everything it could not read. Parsers never throw on bad content:
// the user gets every problem at once, each named by file and position.

import type { ImportItem, ImportProblem, ImportReportRow } from '../model.js';

export interface ParsedAnnotations {
  items: ImportItem[];
  /** Class names in the order the file defines them (COCO categories, YOLO names, else first appearance). */
  classes: string[];
  problems: ImportReportRow[];
}

export function problemRow(source: string, file: string, code: ImportProblem, problem: string): ImportReportRow {
  return { source, file, ok: false, code, problem };
}

/** Merges the results of several annotation files (e.g. one VOC XML per image); classes keep first appearance. */
export function mergeParsed(parts: ParsedAnnotations[]): ParsedAnnotations {
  const classes: string[] = [];
  const seen = new Set<string>();
  for (const name of parts.flatMap((p) => p.classes)) {
    const key = name.toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      classes.push(name);
    }
  }
  return { items: parts.flatMap((p) => p.items), classes, problems: parts.flatMap((p) => p.problems) };
}

/** Classes in order of first appearance in the items (formats without a class list). */
export function classesOf(items: ImportItem[]): string[] {
  return mergeParsed([{ items: [], problems: [], classes: items.flatMap((i) => [...(i.classes ?? []).map((c) => c.name), ...i.boxes.map((b) => b.class)]) }]).classes;
}

export const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
