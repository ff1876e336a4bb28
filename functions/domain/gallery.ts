// The owner's gallery as a data manager: every sample with its label (class, who gave it: a labeler or the model,
// the labeler, the confidence, ambiguous), filtered by any of those, by "the model disagrees" and by unlabeled,
// sorted, with counts per filter value. Filtering pages through the project by key (the sample store's own order),
// reading a bounded number of records per request, so a rare filter costs several short pages, never one huge read;
// the cursor says where to go on. Sorting by confidence or recency reads the labeled samples and takes the unlabeled
// ones in the model's order from the ranking (see `sorted`), so it costs the labels and the page, not the project.

import { classesInEffect, labelersSplit } from './agreement.js';
import { badRequest } from './errors.js';
import type { Project, RankedQueue, Sample } from './model.js';
import type { SampleCounts, Stores } from './ports.js';
import { rankedRows, type RankedRows } from './gallery-order.js';
import { labeledSamples } from './labeled-heads.js';
import { projectProgress } from './progress.js';
import { getProject } from './projects.js';
import { topClass } from './label-validation.js';

export interface GalleryFilter {
  /** Labeled with this class (index into project.classes) as its top class. */
  classIndex?: number;
  /** Labeled by this person (any of the labels in effect, with overlap). */
  labelerId?: string;
  /** Whose label is in effect: a person's or the model's (auto-label). */
  source?: 'labeler' | 'model';
  /** Confidence of the label's top class (a model label: its calibrated probability), inclusive bounds in [0, 1]. */
  minConfidence?: number;
  maxConfidence?: number;
  ambiguous?: boolean;
  /** Labeled samples whose label the model contradicts (out-of-fold, the trainer's suspects). */
  disagrees?: boolean;
  /** true: no label yet; false: labeled. */
  unlabeled?: boolean;
  /** Labelers disagree: two or more labelers' classes in effect differ (agreement.ts); with `splitBetween`, those two. */
  split?: boolean;
  splitBetween?: [string, string];
  /** With `split`: where one of the labelers chose this class. */
  splitClass?: number;
  kind?: 'image' | 'box';
}

export const GALLERY_SORTS = ['upload', 'confidence-asc', 'confidence-desc', 'recent'] as const;
export type GallerySort = (typeof GALLERY_SORTS)[number];

export interface GalleryItem {
  sampleId: string;
  imageId: string;
  kind: Sample['kind'];
  box?: Sample['box'];
  label?: {
    classIndex: number;
    class: string;
    source: 'labeler' | 'model';
    labelerId: string;
    /** The top class's confidence (labeler's level, or the model's probability for an auto-label). */
    confidence: number;
    ambiguous: boolean;
    at: string;
    /** More than one labeler's label in effect (overlap). */
    labeledBy: string[];
  };
  /** What the current model says about it, when it has a view: the top class and its probability. */
  model?: { classIndex: number; class: string; probability: number };
  disagrees: boolean;
  /** Each labeler's class in effect, when two or more labelers labeled it (what agreement compares). */
  labelers?: Record<string, number>;
}

export interface GalleryPage {
  items: GalleryItem[];
  /** Absent on the last page. */
  cursor?: string;
  /** Records read for this page (a rare filter reads many for few matches). */
  scanned: number;
}

/** Records one key-paged request reads at most before it answers with what it has and a cursor. */
export const SCAN_PER_REQUEST = 5000;
/** Most labeled samples a sorted listing reads (it sorts every labeled match). */
export const SORT_LIMIT = 200_000;
const STORE_PAGE = 1000;

interface View {
  project: Project;
  ranking?: RankedQueue;
  /** The ranking's rows: each sample's row and the rows in order (built once per ranking, gallery-order.ts). */
  rows: RankedRows;
  suspects: Map<string, { givenClass: number; predictedClass: number; predictedProbability: number }>;
}

async function viewOf(stores: Stores, projectId: string): Promise<View> {
  const [project, ranking] = await Promise.all([getProject(stores, projectId), stores.rankings.get(projectId)]);
  return {
    project,
    ranking,
    rows: rankedRows(ranking),
    suspects: new Map((ranking?.suspects ?? []).map((s) => [s.sampleId, s])),
  };
}

export function describe(view: View, s: Sample): GalleryItem {
  const { project, ranking } = view;
  // A suspect of the last retrain whose label has changed since is not a disagreement any more.
  const found = view.suspects.get(s.sampleId);
  const suspect = found && s.label && topClass(s.label.confidences) === found.givenClass ? found : undefined;
  const item: GalleryItem = { sampleId: s.sampleId, imageId: s.imageId, kind: s.kind, ...(s.box ? { box: s.box } : {}), disagrees: !!suspect };
  const inEffect = classesInEffect(s);
  if (Object.keys(inEffect).length >= 2) item.labelers = inEffect;
  if (s.label) {
    const c = topClass(s.label.confidences);
    const source = s.label.source === 'model' ? 'model' : 'labeler';
    item.label = {
      classIndex: c,
      class: project.classes[c] ?? '',
      source,
      labelerId: s.label.labelerId,
      confidence: source === 'model' ? (s.label.modelConfidence ?? s.label.confidences[c] ?? 0) : (s.label.confidences[c] ?? 0),
      ambiguous: s.label.ambiguous,
      at: s.label.at,
      labeledBy: s.labeledBy,
    };
  }
  if (suspect) {
    item.model = { classIndex: suspect.predictedClass, class: project.classes[suspect.predictedClass] ?? '', probability: suspect.predictedProbability };
  } else {
    const at = view.rows.rowOf.get(s.sampleId);
    if (at !== undefined && ranking?.probs) {
      const k = ranking.classes;
      const probs = ranking.probs.subarray(at * k, at * k + k);
      const c = topClass(probs);
      if (c >= 0) item.model = { classIndex: c, class: project.classes[c] ?? '', probability: Math.round(probs[c] * 1e4) / 1e4 };
    }
  }
  return item;
}

/** The confidence a filter or sort reads: the label's, else the model's view of an unlabeled sample. */
const confidenceOf = (item: GalleryItem) => item.label?.confidence ?? item.model?.probability;

export function matches(item: GalleryItem, f: GalleryFilter): boolean {
  const label = item.label;
  if (f.unlabeled !== undefined && f.unlabeled === !!label) return false;
  if (f.kind && item.kind !== f.kind) return false;
  if (f.classIndex !== undefined && label?.classIndex !== f.classIndex) return false;
  if (f.labelerId !== undefined && !(label && (label.labelerId === f.labelerId || label.labeledBy.includes(f.labelerId)))) return false;
  if (f.source && label?.source !== f.source) return false;
  if (f.ambiguous !== undefined && (!label || label.ambiguous !== f.ambiguous)) return false;
  if (f.disagrees !== undefined && item.disagrees !== f.disagrees) return false;
  if (f.split !== undefined && labelersSplit(item.labelers ?? {}, f.splitBetween, f.splitClass) !== f.split) return false;
  if (f.minConfidence !== undefined || f.maxConfidence !== undefined) {
    const c = confidenceOf(item);
    if (c === undefined || c < (f.minConfidence ?? 0) || c > (f.maxConfidence ?? 1)) return false;
  }
  return true;
}

export function validateFilter(project: Project, f: GalleryFilter): void {
  if (f.classIndex !== undefined && !(f.classIndex >= 0 && f.classIndex < project.classes.length)) {
    throw badRequest(`class: no class ${f.classIndex} in this project (it has ${project.classes.length})`, { field: 'class' });
  }
  if (f.splitBetween && f.split === undefined) {
    throw badRequest('splitA/splitB: name the pair together with split=true (samples the two labelers disagree on)', { field: 'split' });
  }
  if (f.splitClass !== undefined && f.split === undefined) {
    throw badRequest('splitClass: name the class together with split=true (samples where labelers disagree and one chose it)', { field: 'split' });
  }
  if (f.splitClass !== undefined && !(f.splitClass >= 0 && f.splitClass < project.classes.length)) {
    throw badRequest(`splitClass: no class ${f.splitClass} in this project (it has ${project.classes.length})`, { field: 'splitClass' });
  }
  if (f.splitBetween && f.splitBetween[0] === f.splitBetween[1]) {
    throw badRequest(`splitA/splitB: a pair is two different labelers (both are "${f.splitBetween[0]}")`, { field: 'splitB' });
  }
  if (f.minConfidence !== undefined && f.maxConfidence !== undefined && f.minConfidence > f.maxConfidence) {
    throw badRequest(`minConfidence (${f.minConfidence}) is above maxConfidence (${f.maxConfidence})`, { field: 'minConfidence' });
  }
}

/** The index of a class by name, with a clear error naming the classes there are. */
export function classIndexOf(project: Project, name: string): number {
  const i = project.classes.indexOf(name);
  if (i < 0) throw badRequest(`class: "${name}" is not a class of this project (${project.classes.slice(0, 20).join(', ')}${project.classes.length > 20 ? ', ...' : ''})`, { field: 'class' });
  return i;
}

interface KeyCursor {
  /** The store cursor the page being read was fetched with (absent: the first page). */
  c?: string;
  /** The page size it was fetched with (a store page depends on both). */
  n: number;
  /** Records of that store page already looked at. */
  s: number;
}
interface SortCursor {
  /** Position in the sorted labeled samples. */
  i: number;
  /** Position in the ranking's order. */
  j: number;
  /** The key cursor of the last part (unlabeled samples without a view); '' at its start. */
  t?: string;
}

const encode = (c: KeyCursor | SortCursor) => Buffer.from(JSON.stringify(c)).toString('base64url');
function decode(cursor: string): Partial<KeyCursor & SortCursor> {
  // Cursors are short; anything else is refused before it is parsed.
  if (cursor.length > 3000 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw badCursor();
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (v && typeof v === 'object') return v;
  } catch {
    // below
  }
  throw badCursor();
}
const badCursor = () => badRequest('cursor: not a cursor this gallery gave out; start again without one', { field: 'cursor' });

export async function galleryPage(
  stores: Stores,
  projectId: string,
  opts: { filter?: GalleryFilter; sort?: GallerySort; cursor?: string; limit?: number } = {},
): Promise<GalleryPage> {
  const view = await viewOf(stores, projectId);
  const filter = opts.filter ?? {};
  validateFilter(view.project, filter);
  const limit = Math.max(1, Math.min(opts.limit ?? 100, 500));
  const sort = opts.sort ?? 'upload';
  return sort === 'upload' ? keyPaged(stores, view, filter, limit, opts.cursor) : sorted(stores, view, filter, sort, limit, opts.cursor);
}

/**
 * Store pages are sized to what is still needed, by the share of records the filter has matched so far: an
 * unfiltered page reads about `limit` records, a rare filter reads up to STORE_PAGE at a time. A request that stops
 * in the middle of a store page resumes there (the cursor names the page, its size and the position in it).
 */
async function keyPaged(stores: Stores, view: View, filter: GalleryFilter, limit: number, cursor?: string, also?: (item: GalleryItem) => boolean): Promise<GalleryPage> {
  const at = cursor ? decode(cursor) : {};
  let storeCursor = typeof at.c === 'string' ? at.c : undefined;
  let skip = Number.isInteger(at.s) && (at.s as number) >= 0 ? (at.s as number) : 0;
  let size = Number.isInteger(at.n) && (at.n as number) > 0 ? Math.min(at.n as number, STORE_PAGE) : undefined;
  const filtered = Object.keys(filter).length > 0 || also !== undefined;
  const items: GalleryItem[] = [];
  let scanned = 0;
  for (;;) {
    if (size === undefined) {
      const needed = limit - items.length;
      // Matches per record read so far (a filter is assumed to match one in four until it has been seen at work).
      const share = scanned >= 200 ? Math.max(items.length / scanned, 1 / STORE_PAGE) : filtered ? 0.25 : 1;
      size = Math.max(20, Math.min(STORE_PAGE, Math.ceil(needed / share)));
    }
    const page = await stores.samples.listSamples(view.project.id, { cursor: storeCursor, limit: size });
    for (let i = skip; i < page.items.length; i++) {
      scanned++;
      const item = describe(view, page.items[i]);
      if (matches(item, filter) && (!also || also(item))) items.push(item);
      if (items.length >= limit || scanned >= SCAN_PER_REQUEST) {
        const rest = i + 1 < page.items.length;
        if (!rest && !page.cursor) return { items, scanned };
        const next: KeyCursor = rest ? { c: storeCursor, n: size, s: i + 1 } : { c: page.cursor, n: 0, s: 0 };
        return { items, scanned, cursor: encode(next) };
      }
    }
    if (!page.cursor) return { items, scanned };
    storeCursor = page.cursor;
    skip = 0;
    size = undefined;
  }
}

/**
 * A sorted listing reads the labeled samples (found through the annotations, so it costs the labels, not the project)
 * and takes the unlabeled ones in the model's order from the ranking (ordered once per retrain, gallery-order.ts),
 * reading only the heads of the page it answers. Samples the model has no view of yet (uploaded since the last
 * retrain) come after every sample with a confidence, in upload order, whichever direction; so do unlabeled samples
 * in "recent" (they have no label time). The cursor holds the positions in the labeled list and the ranked order, or
 * the key cursor of that last part.
 */
async function sorted(stores: Stores, view: View, filter: GalleryFilter, sort: Exclude<GallerySort, 'upload'>, limit: number, cursor?: string): Promise<GalleryPage> {
  const at = cursor ? decode(cursor) : {};
  const position = (v: unknown) => (Number.isInteger(v) && (v as number) >= 0 ? (v as number) : 0);
  let i = position(at.i);
  let j = position(at.j);
  const kept = await stores.samples.counts(view.project.id);
  const tooMany = (n: number) => {
    if (n > SORT_LIMIT) throw badRequest(`sort: sorting by ${sort} reads every labeled sample and this project has more than ${SORT_LIMIT}; use the upload order`, { field: 'sort' });
  };
  // Refused before reading them when the counts say so; checked again on what was read (counts can lag).
  tooMany(kept.samples - (kept.byDepth[0] ?? 0));
  const { samples: labeled, counts } = await labeledSamples(stores, view.project.id, kept);
  tooMany(labeled.size);
  const conf = (item: GalleryItem) => confidenceOf(item) ?? -1;
  const byId = (a: GalleryItem, b: GalleryItem) => (a.sampleId < b.sampleId ? -1 : a.sampleId > b.sampleId ? 1 : 0);
  const compare: Record<Exclude<GallerySort, 'upload'>, (a: GalleryItem, b: GalleryItem) => number> = {
    'confidence-asc': (a, b) => conf(a) - conf(b) || byId(a, b),
    'confidence-desc': (a, b) => conf(b) - conf(a) || byId(a, b),
    recent: (a, b) => (b.label!.at < a.label!.at ? -1 : b.label!.at > a.label!.at ? 1 : 0) || byId(a, b),
  };
  const labeledItems = [...labeled.values()].map((s) => describe(view, s)).filter((item) => matches(item, filter));
  labeledItems.sort(compare[sort]);

  // The unlabeled samples the model has a view of, in its order (none for "recent", nor when the filter needs a label).
  const { rows } = view;
  const unlabeled = admitsUnlabeled(filter);
  const order = sort === 'recent' || !unlabeled ? new Uint32Array(0) : sort === 'confidence-asc' ? rows.ascending() : rows.descending();
  const lo = Math.round((filter.minConfidence ?? 0) * 1e4);
  const hi = Math.round((filter.maxConfidence ?? 1) * 1e4);
  const skipRow = (r: number) => rows.key[r] < lo || rows.key[r] > hi || labeled.has(rows.sampleIds[r]);
  const items: GalleryItem[] = [];
  let scanned = labeled.size;
  let read = 0;
  const cursorHere = (next: SortCursor) => ({ items, scanned, cursor: encode(next) });
  while (typeof at.t !== 'string' && items.length < limit && read < SCAN_PER_REQUEST) {
    // The next candidates in the merged order, each with the positions after it.
    const chunk: { item?: GalleryItem; row?: number; i: number; j: number }[] = [];
    const size = Math.min(STORE_PAGE, Math.max(50, 2 * (limit - items.length)));
    while (chunk.length < size) {
      while (j < order.length && skipRow(order[j])) j++;
      const row = j < order.length ? order[j] : undefined;
      const next = i < labeledItems.length ? labeledItems[i] : undefined;
      if (row === undefined && !next) break;
      const rowFirst = row !== undefined && (!next || compare[sort](rowItem(view, row), next) < 0);
      if (rowFirst) chunk.push({ row, i, j: ++j });
      else chunk.push({ item: next, i: ++i, j });
    }
    if (chunk.length === 0) break;
    const heads = new Map((await stores.samples.getSamples(view.project.id, chunk.flatMap((c) => (c.row === undefined ? [] : [rows.sampleIds[c.row]])))).map((s) => [s.sampleId, s]));
    for (const c of chunk) {
      let item = c.item;
      if (c.row !== undefined) {
        read++;
        scanned++;
        const head = heads.get(rows.sampleIds[c.row]);
        item = head && describe(view, head);
      }
      if (item && matches(item, filter)) items.push(item);
      if (items.length >= limit || read >= SCAN_PER_REQUEST) return cursorHere({ i: c.i, j: c.j });
    }
  }
  // The rest: unlabeled samples without a view of the model (every unlabeled one for "recent"), in upload order.
  if (!unlabeled) return { items, scanned };
  if (typeof at.t !== 'string' && sort !== 'recent' && !unviewedExist(counts, rows, labeled)) return { items, scanned };
  const also = sort === 'recent' ? (item: GalleryItem) => !item.label : (item: GalleryItem) => !item.label && !item.model;
  const tail = await keyPaged(stores, view, filter, limit - items.length, at.t || undefined, also);
  items.push(...tail.items);
  scanned += tail.scanned;
  return tail.cursor ? cursorHere({ i, j, t: tail.cursor }) : { items, scanned };
}

/** The gallery item of a ranked unlabeled sample as far as the sort needs it (its id and the model's view). */
function rowItem({ rows }: View, row: number): GalleryItem {
  return { sampleId: rows.sampleIds[row], imageId: '', kind: 'image', disagrees: false, model: { classIndex: 0, class: '', probability: rows.key[row] / 1e4 } };
}

/** Whether some unlabeled sample has no view of the model: more unlabeled samples than ranked rows still unlabeled. */
function unviewedExist(counts: SampleCounts, rows: RankedRows, labeled: Map<string, Sample>): boolean {
  const unlabeled = counts.byDepth[0] ?? 0;
  let viewed = 0;
  for (const r of rows.ascending()) if (!labeled.has(rows.sampleIds[r])) viewed++;
  return unlabeled > viewed;
}

/** False when the filter needs a label (so no unlabeled sample can match); true does not mean every one matches. */
function admitsUnlabeled(f: GalleryFilter): boolean {
  return f.unlabeled !== false && f.classIndex === undefined && f.labelerId === undefined && f.source === undefined && f.ambiguous === undefined && f.disagrees !== true && f.split !== true;
}

export interface GalleryCounts {
  total: number;
  unlabeled: number;
  ambiguous: number;
  /** Labeled samples the model contradicts (the trainer's suspects; absent before there is a model). */
  disagrees: number;
  byClass: { class: string; classIndex: number; count: number }[];
  byLabeler: { labelerId: string; count: number }[];
}

/** Counts for every filter value, from the project's kept counts (no scan of the project). */
export async function galleryCounts(stores: Stores, projectId: string, asker: string): Promise<GalleryCounts> {
  const [progress, ranking] = await Promise.all([projectProgress(stores, projectId, asker), stores.rankings.get(projectId)]);
  return {
    total: progress.total,
    unlabeled: progress.total - progress.labeled,
    ambiguous: progress.ambiguous,
    disagrees: ranking?.suspects?.length ?? 0,
    byClass: progress.byClass.map((c, classIndex) => ({ class: c.name, classIndex, count: c.count })),
    byLabeler: progress.labelers.filter((l) => l.total > 0).map((l) => ({ labelerId: l.labelerId, count: l.total })),
  };
}
