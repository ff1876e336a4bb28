// Finding and parsing the annotation files of one format in a source tree, and finding each item's image file in
// it (to upload images the project does not have yet). Layouts understood, besides a single named file:
//   coco  every *.json with an "images" list (e.g. annotations/instances.json + labels.json of Winnow's export)
//   voc   every *.xml with an <annotation> root (Annotations/*.xml); class order from labels.txt when present
//   yolo  data.yaml (or another *.yaml with names, or classes.txt / *.names) + labels/**/*.txt
//   csv   every *.csv (the origin's filename,bbox,annotation,feat_idx plus Winnow's extra columns)

import path from 'node:path';
import { parseCoco } from '../domain/interchange/import/coco.js';
import { parseOriginCsv } from '../domain/interchange/import/csv.js';
import { mergeParsed, problemRow, type ParsedAnnotations } from '../domain/interchange/import/parsed.js';
import { parseVoc } from '../domain/interchange/import/voc.js';
import { parseYoloLabels, parseYoloNamesFile, parseYoloYaml } from '../domain/interchange/import/yolo.js';
import type { ImportItem } from '../domain/interchange/model.js';
import { baseName, withoutExtension } from '../domain/interchange/names.js';
import { isImageKey } from '../domain/model.js';
import type { SourceTree } from './label-source.js';

export const FORMATS = ['coco', 'voc', 'yolo', 'csv'] as const;
export type LabelFormat = (typeof FORMATS)[number];

/** Parsed annotations, with the annotation file each item came from (images are looked for relative to it). */
export interface LabelFiles extends ParsedAnnotations {
  origins: Map<ImportItem, string>;
}

const decoder = new TextDecoder();

export async function readLabelFiles(tree: SourceTree, format: LabelFormat): Promise<LabelFiles> {
  const text = async (file: string) => decoder.decode(await tree.read(file));
  const origins = new Map<ImportItem, string>();
  const track = (parsed: ParsedAnnotations, file: string) => {
    for (const item of parsed.items) origins.set(item, file);
    return parsed;
  };
  const candidates = (ext: RegExp) => (tree.entry ? [tree.entry] : tree.files.filter((f) => ext.test(f)));

  if (format === 'coco') {
    const parts: ParsedAnnotations[] = [];
    for (const file of candidates(/\.json$/i)) {
      const parsed = parseCoco(await text(file), file);
      // Other JSON in a folder (not COCO) is not ours to judge; a named file or broken JSON is reported.
      if (!tree.entry && parsed.problems[0]?.problem?.startsWith('not a COCO file')) continue;
      parts.push(track(parsed, file));
    }
    return { ...mergeCocoFiles(mergeParsed(parts), origins), origins };
  }
  if (format === 'voc') {
    const parts: ParsedAnnotations[] = [];
    for (const file of candidates(/\.xml$/i)) {
      const parsed = parseVoc(await text(file), file);
      if (!tree.entry && parsed.problems[0]?.problem?.startsWith('not a Pascal VOC file')) continue;
      parts.push(track(parsed, file));
    }
    // VOC has no class list; Winnow's export (labels.txt) and others (classes.txt) put one beside the files.
    const list = tree.files.find((f) => /^(labels|classes)\.txt$/i.test(f));
    const order = list ? parseYoloNamesFile(await text(list)) : [];
    return { ...mergeParsed([{ items: [], problems: [], classes: order }, ...parts]), origins };
  }
  if (format === 'csv') {
    const parts: ParsedAnnotations[] = [];
    for (const file of candidates(/\.csv$/i)) parts.push(track(parseOriginCsv(await text(file), file), file));
    return { ...mergeParsed(parts), origins };
  }
  return { ...(await readYolo(tree, text, track)), origins };
}

async function readYolo(tree: SourceTree, text: (f: string) => Promise<string>, track: (p: ParsedAnnotations, f: string) => ParsedAnnotations): Promise<ParsedAnnotations> {
  const byDepth = (files: string[]) => [...files].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
  const yamls = byDepth(tree.files.filter((f) => /\.ya?ml$/i.test(f)));
  const nameFiles = byDepth(tree.files.filter((f) => /(^|\/)(classes\.txt|[^/]+\.names)$/i.test(f)));
  let names: string[] | undefined;
  const problems: ParsedAnnotations['problems'] = [];
  let namesFile: string | undefined;
  for (const file of [...yamls.filter((f) => baseName(f).toLowerCase() === 'data.yaml'), ...yamls]) {
    const parsed = parseYoloYaml(await text(file), file);
    if (parsed.names.length) {
      names = parsed.names;
      namesFile = file;
      break;
    }
    if (baseName(file).toLowerCase() === 'data.yaml') problems.push(...parsed.problems);
  }
  if (!names && nameFiles.length) {
    namesFile = nameFiles[0];
    names = parseYoloNamesFile(await text(namesFile));
  }
  if (!names) {
    return { items: [], classes: [], problems: [...problems, problemRow(tree.label, '', 'unreadable', 'no class names: expected data.yaml with "names", classes.txt or obj.names')] };
  }
  const txt = tree.files.filter((f) => /\.txt$/i.test(f) && f !== namesFile);
  const underLabels = txt.filter((f) => f.split('/').slice(0, -1).includes('labels'));
  const labelFiles = underLabels.length ? underLabels : txt;
  const parts = [];
  for (const file of labelFiles) parts.push(track(parseYoloLabels(await text(file), file, names), file));
  const merged = mergeParsed(parts);
  return { ...merged, classes: names, problems: [...problems, ...merged.problems] };
}

/**
 * Several COCO files may describe the same image: boxes in instances.json, image-level labels in labels.json
 * (Winnow's export of a classification project). Their halves are joined; the same image with boxes in two files
 * stays two items, which the plan reports as a duplicate.
 */
function mergeCocoFiles(parsed: ParsedAnnotations, origins: Map<ImportItem, string>): ParsedAnnotations {
  const byFile = new Map<string, ImportItem>();
  const items: ImportItem[] = [];
  for (const item of parsed.items) {
    const earlier = byFile.get(item.file);
    const separate = earlier && origins.get(earlier) !== origins.get(item);
    if (earlier && separate && (earlier.boxes.length === 0 || item.boxes.length === 0) && !(earlier.classes && item.classes)) {
      earlier.boxes.push(...item.boxes);
      if (item.classes) earlier.classes = item.classes;
      if (item.ambiguous) earlier.ambiguous = true;
      continue;
    }
    byFile.set(item.file, item);
    items.push(item);
  }
  return { ...parsed, items };
}

/** The tree's image files, indexed for lookups by path, base name and name without extension. */
export class TreeImages {
  private readonly all: Set<string>;
  private readonly byBase = new Map<string, string[]>();
  private readonly byStem = new Map<string, string[]>();
  private readonly byBaseStem = new Map<string, string[]>();

  constructor(files: string[]) {
    const images = files.filter(isImageKey);
    this.all = new Set(images);
    const add = (map: Map<string, string[]>, key: string, file: string) => map.set(key, [...(map.get(key) ?? []), file]);
    for (const f of images) {
      add(this.byBase, baseName(f), f);
      add(this.byStem, withoutExtension(f), f);
      add(this.byBaseStem, withoutExtension(baseName(f)), f);
    }
  }

  /**
   * The image an item names: its path from the tree's root, from the annotation file's folder or its parent
   * (Annotations/ beside JPEGImages/), or under an images/ folder there; else the only image with its base name.
   */
  locate(item: ImportItem, annotationFile?: string): { file?: string; why?: string } {
    const name = item.file.replace(/\\/g, '/');
    const dir = annotationFile && !path.isAbsolute(annotationFile) ? path.posix.dirname(annotationFile) : '.';
    const bases = [...new Set(['.', dir, path.posix.dirname(dir)])];
    const paths = bases.flatMap((b) => [path.posix.join(b, name), path.posix.join(b, 'images', name)]).map((p) => path.posix.normalize(p));
    const inside = paths.filter((p) => !p.startsWith('../') && p !== '..');
    const found = item.extensionUnknown
      ? inside.flatMap((p) => this.byStem.get(p) ?? [])
      : inside.filter((p) => this.all.has(p));
    const unique = [...new Set(found)];
    if (unique.length === 1) return { file: unique[0] };
    const byName = (item.extensionUnknown ? this.byBaseStem.get(baseName(name)) : this.byBase.get(baseName(name))) ?? [];
    const candidates = unique.length > 1 ? unique : byName;
    if (candidates.length === 1) return { file: candidates[0] };
    if (candidates.length > 1) return { why: `${candidates.length} image files in the source could be "${item.file}" (${candidates.slice(0, 3).join(', ')})` };
    return { why: `no image file "${item.file}" in the source either` };
  }
}
