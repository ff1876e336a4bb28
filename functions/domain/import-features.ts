// Bring-your-own features: rows of (uploaded file, optional box, optional class name, embedding computed elsewhere,
// e.g. DINOv2) become samples, trainer vectors under the caller's model name, and labels. Users with their own
// embeddings skip the models; the trainer reads the vectors of `project.embedding.model`.
//
// Idempotent: sample ids derive from the file and the box, samples are created only if absent, a label goes only
// to an unlabeled sample with a requestId derived from the row, and a re-sent vector replaces the earlier one
// (the later shard wins). So a chunk that failed halfway can simply be sent again.

import { createHash } from 'node:crypto';
import { annotate } from './annotate.js';
import { badRequest, ConditionFailed, conflict, WinnowError } from './errors.js';
import { imageIdFor } from './ingest.js';
import { BUCKET_LAYOUT } from './layout.js';
import type { Box, ImageRecord, Project, Sample } from './model.js';
import type { Stores } from './ports.js';
import { getProject } from './projects.js';

export interface FeatureRow {
  /** Path under `uploads/<project>/`, e.g. `daisy/1.jpg`. */
  file: string;
  /** [x1, y1, x2, y2] = [left, top, right, bottom] in image pixels; absent = the whole image. */
  box?: Box;
  /** A class name of the project (case-insensitive): the sample gets this label unless it is labeled already. */
  label?: string;
  vector: Float32Array;
  /** Where the row came from (its CSV line), named in error messages. */
  line?: number;
}

/** Where the trainer's vectors live (embedding shards in the bucket); injected so the domain stays storage-free. */
export interface FeatureVectors {
  /** Length of the vectors already stored for this project and model, if any. */
  storedDims(projectId: string, model: string): Promise<number | undefined>;
  append(projectId: string, model: string, rows: { sampleId: string; vector: Float32Array }[]): Promise<void>;
}

export interface ImportFeaturesInput {
  projectId: string;
  /** Name of the embedding model, e.g. `byo-dinov2`: the trainer reads the vectors stored under it. */
  model: string;
  rows: FeatureRow[];
  /** Who imports: imported labels are theirs. */
  labelerId: string;
}

export interface ImportFeaturesResult {
  samplesCreated: number;
  labelsApplied: number;
  /** Rows with a label whose sample already had one (or is being labeled right now): left as they are. */
  labelsKept: number;
  vectors: number;
  dims: number;
  /** Samples whose label changed (to retrain on). */
  labeledSampleIds: string[];
}

export const FEATURE_MODEL_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Largest magnitude fp16 (the shard format) can hold. */
const HALF_MAX = 65504;
const CONCURRENCY = 8;

/** The id of a box sample: stable for the same file and box, so a re-import finds it. */
export const boxSampleId = (imageId: string, [x1, y1, x2, y2]: Box) => `${imageId}-x${x1}_${y1}_${x2}_${y2}`;

export async function importFeatures(stores: Stores, vectors: FeatureVectors, input: ImportFeaturesInput): Promise<ImportFeaturesResult> {
  const project = await getProject(stores, input.projectId);
  if (!FEATURE_MODEL_PATTERN.test(input.model)) {
    throw badRequest(`model name "${input.model}" must be lower-case letters, digits, '.', '-' or '_' (max 64)`, { field: 'model' });
  }
  if (project.embedding && project.embedding.model !== input.model) {
    throw conflict(`project "${project.id}" trains on embedding model "${project.embedding.model}", not "${input.model}": import with that model name`, { field: 'model' });
  }
  if (input.rows.length === 0) throw badRequest('no rows to import', { field: 'rows' });
  const rows = input.rows.map((row, i) => checkRow(project, row, i));
  const dims = rows[0].vector.length;
  const odd = rows.find((r) => r.vector.length !== dims);
  if (odd) throw badRequest(`${odd.where}: vector has ${odd.vector.length} values, the first row ${dims}`, { field: 'rows' });
  const stored = await vectors.storedDims(project.id, input.model);
  if (stored !== undefined && stored !== dims) {
    throw badRequest(`model "${input.model}" has ${stored}-dimensional vectors in this project; these have ${dims}`, { field: 'rows' });
  }
  const placed = await placeRows(stores, project, rows);
  const now = new Date(stores.clock.now()).toISOString();
  const samplesCreated = await stores.samples.putSamplesIfAbsent(samplesFor(project, placed, now));
  await vectors.append(project.id, input.model, placed.map((p) => ({ sampleId: p.sampleId, vector: p.row.vector })));
  await adoptModel(stores, project, input.model);
  const labels = await applyLabels(stores, project, placed, input.labelerId);
  return { samplesCreated, ...labels, vectors: placed.length, dims };
}

interface CheckedRow extends FeatureRow {
  where: string;
  classIndex?: number;
}

function checkRow(project: Project, row: FeatureRow, i: number): CheckedRow {
  const where = row.line ? `line ${row.line}` : `row ${i + 1}`;
  const fail = (why: string) => badRequest(`${where}: ${why}`, { field: `rows.${i}`, ...(row.line ? { line: row.line } : {}) });
  const file = row.file;
  if (file.startsWith('/') || file.split('/').some((p) => p === '' || p === '.' || p === '..') || /[\u0000-\u001f\u007f\\]/.test(file)) {
    throw fail(`file "${file}" is not a safe relative path under uploads/${project.id}/`);
  }
  if (row.box) {
    const [x1, y1, x2, y2] = row.box;
    if (!row.box.every((v) => Number.isInteger(v) && v >= 0)) throw fail(`box [${row.box.join(', ')}] must be whole, non-negative pixels`);
    if (!(x2 > x1 && y2 > y1)) throw fail(`box [${row.box.join(', ')}] needs right > left and bottom > top`);
    if (project.taskType === 'box-review') throw fail('box rows need a single-label or multi-label project (box-review projects review boxes on whole images)');
  }
  const v = row.vector;
  if (v.length === 0) throw fail('empty vector');
  for (let k = 0; k < v.length; k++) {
    if (!(Math.abs(v[k]) <= HALF_MAX)) throw fail(`vector value ${v[k]} at position ${k} is not a finite number within ±${HALF_MAX}`);
  }
  let classIndex: number | undefined;
  if (row.label !== undefined) {
    classIndex = classIndexOf(project, row.label);
    if (classIndex < 0) throw fail(`class "${row.label}" is not one of the project's classes (${project.classes.join(', ')})`);
  }
  return { ...row, where, classIndex };
}

function classIndexOf(project: Project, name: string): number {
  const exact = project.classes.indexOf(name.trim());
  if (exact >= 0) return exact;
  const lower = name.trim().toLowerCase();
  return project.classes.findIndex((c) => c.toLowerCase() === lower);
}

interface PlacedRow {
  row: CheckedRow;
  imageId: string;
  sampleId: string;
  /** Upload order of the image (the whole-image sample sorts at `#0000`, boxes right after it). */
  imageOrder: string;
  /** Whether ingest has finished this image (then its whole-image sample exists already). */
  ingested: boolean;
}

/** Finds each row's image (uploaded, not failed) and its place in upload order; checks dims and duplicates. */
async function placeRows(stores: Stores, project: Project, rows: CheckedRow[]): Promise<PlacedRow[]> {
  const seen = new Map<string, CheckedRow>();
  const files = [...new Set(rows.map((r) => r.file))];
  const orders = new Map<string, { imageId: string; order: string; image?: ImageRecord }>();
  await bounded(files, CONCURRENCY, async (file) => {
    const key = BUCKET_LAYOUT.uploadKey(project.id, file);
    const imageId = imageIdFor(key);
    const image = await stores.samples.getImage(project.id, imageId);
    if (image) {
      orders.set(file, { imageId, order: image.order, image });
      return;
    }
    // Not ingested yet: the whole-image sample is created here, placed where ingest's reconcile would place it.
    const head = await stores.blobs.head(key);
    if (head) orders.set(file, { imageId, order: `${(head.lastModified ?? new Date(stores.clock.now())).toISOString()}|${file}` });
  });
  return rows.map((row) => {
    const found = orders.get(row.file);
    if (!found) throw badRequest(`${row.where}: file "${row.file}" is not uploaded (uploads/${project.id}/${row.file}); upload the images first`, { field: 'rows' });
    if (found.image?.status === 'failed') throw badRequest(`${row.where}: image "${row.file}" could not be read: ${found.image.reason ?? 'ingest failed'}`, { field: 'rows' });
    const { width, height } = found.image ?? {};
    if (row.box && width && height && (row.box[2] > width || row.box[3] > height)) {
      throw badRequest(`${row.where}: box [${row.box.join(', ')}] lies outside the ${width} x ${height} image "${row.file}"`, { field: 'rows' });
    }
    const sampleId = row.box ? boxSampleId(found.imageId, row.box) : found.imageId;
    const earlier = seen.get(sampleId);
    if (earlier) throw badRequest(`${row.where}: same file and box as ${earlier.where}`, { field: 'rows' });
    seen.set(sampleId, row);
    return { row, imageId: found.imageId, sampleId, imageOrder: found.order, ingested: found.image?.status === 'ready' };
  });
}

/** The whole-image sample of every file (ingest may not have run yet) and each box sample. */
function samplesFor(project: Project, placed: PlacedRow[], now: string): Sample[] {
  const samples = new Map<string, Sample>();
  const base = { projectId: project.id, version: 0, labeledBy: [] as string[], createdAt: now };
  for (const p of placed) {
    if (!p.ingested && !samples.has(p.imageId)) {
      const order = `${p.imageOrder}#0000`;
      samples.set(p.imageId, { ...base, sampleId: p.imageId, imageId: p.imageId, kind: 'image', order, queueKey: order });
    }
    if (p.row.box) {
      // After the whole image ('x' sorts after ingest's numbered detections), boxes top-left first.
      const [x1, y1, x2, y2] = p.row.box;
      const order = `${p.imageOrder}#x${[y1, x1, y2, x2].map((v) => String(v).padStart(6, '0')).join('_')}`;
      samples.set(p.sampleId, { ...base, sampleId: p.sampleId, imageId: p.imageId, kind: 'box', box: p.row.box, order, queueKey: order });
    }
  }
  return [...samples.values()];
}

/** The first import names the model the trainer uses from now on (unless the project named one already). */
async function adoptModel(stores: Stores, project: Project, model: string): Promise<void> {
  for (let current: Project | undefined = project; current && !current.embedding; current = await stores.projects.get(project.id)) {
    try {
      await stores.projects.update({ ...current, embedding: { model } }, current.version);
      return;
    } catch (err) {
      if (!(err instanceof ConditionFailed)) throw err; // edited meanwhile: read it again
    }
  }
  const now = await getProject(stores, project.id);
  if (now.embedding?.model !== model) throw conflict(`project "${project.id}" now trains on embedding model "${now.embedding?.model}"`);
}

async function applyLabels(stores: Stores, project: Project, placed: PlacedRow[], labelerId: string) {
  const labeled = placed.filter((p) => p.row.classIndex !== undefined);
  const heads = new Map((await stores.samples.getSamples(project.id, labeled.map((p) => p.sampleId))).map((s) => [s.sampleId, s]));
  const labeledSampleIds: string[] = [];
  let labelsKept = 0;
  await bounded(labeled, CONCURRENCY, async (p) => {
    const sample = heads.get(p.sampleId);
    if (!sample || sample.label || sample.labeledBy.length > 0) {
      labelsKept++;
      return;
    }
    // Derived from the row, so a re-sent chunk that reached the log finds its own write instead of a second one.
    const requestId = `import-${createHash('sha256').update(`${project.id}|${p.sampleId}|${sample.version}|${p.row.classIndex}`).digest('hex').slice(0, 32)}`;
    try {
      const result = await annotate(stores, {
        projectId: project.id,
        sampleId: p.sampleId,
        version: sample.version,
        labelerId,
        requestId,
        classIndex: p.row.classIndex,
      });
      await result.completed; // the import's report and the retrain it triggers read the heads
      // Also when replayed: the earlier attempt's write was completed only now.
      labeledSampleIds.push(p.sampleId);
    } catch (err) {
      // Someone labeled it (or holds it) since we looked: their label stands.
      if (err instanceof WinnowError && (err.code === 'stale_version' || err.code === 'lease_conflict')) labelsKept++;
      else throw err;
    }
  });
  return { labelsApplied: labeledSampleIds.length, labelsKept, labeledSampleIds };
}

async function bounded<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
