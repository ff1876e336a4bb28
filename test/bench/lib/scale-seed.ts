// Seeds a large project for bench:scale straight into the local stack's dynalite data folder (its LevelDB, while the
// stack is stopped), in the exact items the DynamoDB adapters write: image records, whole-image samples, a fixed
// number of labels (sample heads with their quality sums, annotation records with live points, labeler tallies) and
// the project's counter item. Going through dynalite's own key functions but not its HTTP front, JSON marshalling per
// request and per-item locks is what makes 1M samples a matter of a minute or two instead of ~15 (BatchWriteItem:
// ~2,500 items/s here).

import { createRequire } from 'node:module';
import { marshall } from '@aws-sdk/util-dynamodb';
import { countFrom } from '../../../functions/adapters/sample-counts.js';
import { COUNTER_SK, QUALITY_KEPT } from '../../../functions/adapters/aws/project-counter.js';
import { withServedKey } from '../../../functions/adapters/aws/annotations.js';
import { tallyOfRecords } from '../../../functions/domain/quality-tally.js';
import { DEFAULT_TABLE_NAMES } from '../../../functions/adapters/aws/schema.js';
import { annotationSampleKey, annotationSortKey, imageSk, sampleSk } from '../../../functions/adapters/keys.js';
import { RECENT_LIMIT, type Annotation, type ImageRecord, type Sample } from '../../../functions/domain/model.js';
import { syntheticImage } from './synthetic-image.js';

const require = createRequire(import.meta.url);

interface DynaliteStore {
  db: { close(): Promise<void> };
  getTable(name: string, checkStatus: boolean, cb: (err: Error | null, table: DynaliteTable) => void): void;
  getItemDb(name: string): SubDb;
  getIndexDb(type: string, table: string, index: string): SubDb;
}
interface SubDb {
  batch(ops: { type: 'put'; key: string; value: unknown }[], cb: (err?: Error) => void): void;
}
interface DynaliteTable {
  TableName: string;
  GlobalSecondaryIndexes?: unknown[];
}
interface DynaliteDb {
  create(options: Record<string, unknown>): DynaliteStore;
  createKey(item: unknown, table: DynaliteTable): string;
  getIndexActions(indexes: unknown[], existing: unknown, item: unknown, table: DynaliteTable): { puts: { index: string; key: string; item: unknown }[] };
}

export interface ScaleSeed {
  projectId: string;
  classes: number;
  samples: number;
  /** Samples labeled (by `labelers` labelers in turn); a tenth of them by a second labeler too (agreement). */
  labels: number;
  labelers: number;
  /** Every n-th image failed at ingest (the rare filter value). */
  failedEvery: number;
}

export interface SeededProject {
  items: number;
  ms: number;
  labelerIds: string[];
  /** A labeled sample and an unlabeled one, for the routes that name a sample. */
  labeledSampleId: string;
  imageIds: (i: number) => string;
}

const BATCH = 5000;

export const imageIdOf = (i: number) => `scale${String(i).padStart(19, '0')}`;

/** Writes the project's records into the dynalite folder `dir` (the stack must be stopped; its tables exist). */
export async function seedDynalite(dir: string, seed: ScaleSeed, onProgress?: (done: number) => void): Promise<SeededProject> {
  const t0 = performance.now();
  const dynalite = require('dynalite/db') as DynaliteDb;
  const store = dynalite.create({ path: dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const table = (name: string) => new Promise<DynaliteTable>((resolve, reject) => store.getTable(name, false, (err, t) => (err ? reject(err) : resolve(t))));
  const tables = {
    samples: await table(DEFAULT_TABLE_NAMES.samples),
    annotations: await table(DEFAULT_TABLE_NAMES.annotations),
    labelers: await table(DEFAULT_TABLE_NAMES.labelers),
  };
  let items = 0;
  const writer = (t: DynaliteTable) => {
    const ops = new Map<SubDb, { type: 'put'; key: string; value: unknown }[]>();
    const main = store.getItemDb(t.TableName);
    const flush = async () => {
      for (const [db, list] of ops) {
        if (list.length === 0) continue;
        await new Promise<void>((resolve, reject) => db.batch(list.splice(0), (err) => (err ? reject(err) : resolve())));
      }
    };
    return {
      async put(plain: Record<string, unknown>) {
        const item = marshall(plain, { removeUndefinedValues: true });
        const add = (db: SubDb, key: string, value: unknown) => {
          let list = ops.get(db);
          if (!list) ops.set(db, (list = []));
          list.push({ type: 'put', key, value });
        };
        add(main, dynalite.createKey(item, t), item);
        for (const action of dynalite.getIndexActions(t.GlobalSecondaryIndexes ?? [], undefined, item, t).puts) {
          add(store.getIndexDb('Global', t.TableName, action.index), action.key, action.item);
        }
        items++;
        if ((ops.get(main)?.length ?? 0) >= BATCH) {
          await flush();
          onProgress?.(items);
        }
      },
      flush,
    };
  };
  const samples = writer(tables.samples);
  const annotations = writer(tables.annotations);
  const labelers = writer(tables.labelers);

  const { projectId } = seed;
  const labelerIds = Array.from({ length: seed.labelers }, (_, i) => `labeler-${i}`);
  const counts = new Map<string, number>();
  const tallies = new Map(labelerIds.map((id) => [id, { total: 0, recent: [] as { sampleId: string; version: number; requestId: string; day: string }[] }]));
  const at = '2026-12-01T10:00:00.000Z';
  const day = at.slice(0, 10);
  for (let i = 0; i < seed.samples; i++) {
    const image = syntheticImage(projectId, i, {
      imageId: imageIdOf(i),
      nameDigits: 7,
      status: i % seed.failedEvery === seed.failedEvery - 1 ? 'failed' : 'ready',
    });
    await samples.put({ ...image, sk: imageSk(image.imageId) });
    countFrom([], [image], counts);
    if (image.status === 'failed') continue;
    const sample = wholeImageSample(image);
    // Labels spread over the project (one every samples/labels), as a team labeling what the ranking serves would.
    const stride = Math.max(1, Math.floor(seed.samples / seed.labels));
    const labelIndex = i % stride === 0 ? i / stride : -1;
    if (labelIndex >= 0 && labelIndex < seed.labels) {
      const history = labelsFor(seed, labelIndex, sample, labelerIds, at);
      for (const a of history) {
        await annotations.put({ ...a, sampleKey: annotationSampleKey(projectId, a.sampleId), sortKey: annotationSortKey(a.sampleId, a.version), ...withServedKey(a) });
        const tally = tallies.get(a.labelerId)!;
        tally.total++;
        tally.recent.push({ sampleId: a.sampleId, version: a.version, requestId: a.requestId, day });
        if (tally.recent.length > RECENT_LIMIT) tally.recent.shift();
      }
      const last = history[history.length - 1];
      sample.version = history.length;
      sample.labeledBy = [...new Set(history.map((a) => a.labelerId))];
      sample.label = { confidences: last.confidences, ambiguous: last.ambiguous, labelerId: last.labelerId, at };
      // Two labelers: the head keeps both classes in effect, as the app's label writes do (agreement counts them).
      if (sample.labeledBy.length >= 2) sample.inEffect = Object.fromEntries(history.map((h) => [h.labelerId, h.confidences.indexOf(1)]));
      delete sample.queueKey;
      // The head keeps its labels' live points for the quality sums, as the app's label writes do.
      const tally = tallyOfRecords(history);
      if (tally) sample.liveTally = tally;
    }
    await samples.put({ ...sample, sk: sampleSk(sample.sampleId) });
    countFrom([sample], [], counts);
  }
  for (const [labelerId, t] of tallies) {
    await labelers.put({ projectId, labelerId, total: t.total, perDay: { [day]: t.total }, recent: t.recent, lastAt: at, seq: 1 });
  }
  await samples.put({ projectId, sk: COUNTER_SK, ...Object.fromEntries(counts), seq: 1, [QUALITY_KEPT]: 1 });
  await Promise.all([samples.flush(), annotations.flush(), labelers.flush()]);
  await store.db.close();
  onProgress?.(items);
  return { items, ms: performance.now() - t0, labelerIds, labeledSampleId: imageIdOf(0), imageIds: imageIdOf };
}

function wholeImageSample(image: ImageRecord): Sample {
  const order = `${image.order}#0000`;
  return { projectId: image.projectId, sampleId: image.imageId, imageId: image.imageId, kind: 'image', version: 0, labeledBy: [], order, queueKey: order, createdAt: image.createdAt };
}

/** One label, or two by different labelers for every tenth (so agreement has pairs); live points as serving records them. */
function labelsFor(seed: ScaleSeed, n: number, sample: Sample, labelerIds: string[], at: string): Annotation[] {
  const out: Annotation[] = [];
  const people = n % 10 === 0 && labelerIds.length > 1 ? 2 : 1;
  for (let k = 0; k < people; k++) {
    const labelerId = labelerIds[(n + k) % labelerIds.length];
    const cls = (n * 7 + k * (n % 3 === 0 ? 1 : 0)) % seed.classes;
    const predicted = (n * 3) % seed.classes;
    const confidences = Array.from({ length: seed.classes }, (_, c) => (c === cls ? 1 : 0));
    const confidence = 0.4 + ((n * 13) % 50) / 100;
    out.push({
      projectId: sample.projectId,
      sampleId: sample.sampleId,
      version: k,
      kind: 'label',
      labelerId,
      confidences,
      ambiguous: false,
      before: k === 0 ? { labeledBy: [] } : { labeledBy: [out[0].labelerId], label: { confidences: out[0].confidences, ambiguous: false, labelerId: out[0].labelerId, at } },
      requestId: `seed-${n}-${k}`,
      at,
      live: { squaredError: predicted === cls ? (1 - confidence) ** 2 : confidence ** 2 + (1 - 0) ** 2, correct: predicted === cls, predicted, confidence, ...(n % 10 === 5 ? { audit: true } : {}) },
    });
  }
  return out;
}
