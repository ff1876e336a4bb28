// Bring-your-own features: rows -> box samples, labels and trainer vectors, through the API on the in-memory
// stores; and the local checks of the CLI (references CSV, .npy matrix) that run before anything is sent.

import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMemoryStores, type MemoryStores } from '../../functions/adapters/memory/index.js';
import { createApp } from '../../functions/api/app.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import { boxFromCsv, parseCsvRecords, parseFeatureRefs } from '../../functions/cli/feature-refs.js';
import { planFeatureImport } from '../../functions/cli/import-features.js';
import { parseNpy } from '../../functions/cli/npy.js';
import { annotate } from '../../functions/domain/annotate.js';
import { float32ToHalf } from '../../functions/domain/half.js';
import { boxSampleId } from '../../functions/domain/import-features.js';
import { imageIdFor } from '../../functions/domain/ingest.js';
import { createProject } from '../../functions/domain/projects.js';
import { projectProgress } from '../../functions/domain/progress.js';
import { EmbeddingReader } from '../../functions/adapters/embeddings/reader.js';
import { ManualClock } from '../support/fixtures.js';

const A = imageIdFor('uploads/flowers/daisy/a.jpg');
const B = imageIdFor('uploads/flowers/daisy/b.jpg');
const A_ORDER = '2026-11-22T09:00:00.000Z|daisy/a.jpg';

/** A project with daisy/a.jpg ingested (200 x 100) and daisy/b.jpg uploaded but not ingested yet. */
async function setup() {
  const clock = new ManualClock();
  const stores = createMemoryStores(clock);
  await createProject(stores, { id: 'flowers', classes: ['daisy', 'roses', 'tulips'] }, 'olga');
  await createProject(stores, { id: 'garden', classes: ['a', 'b'], members: ['lars'] }, 'olga');
  await stores.blobs.put('uploads/flowers/daisy/a.jpg', new Uint8Array([1]), 'image/jpeg');
  await stores.blobs.put('uploads/flowers/daisy/b.jpg', new Uint8Array([2]), 'image/jpeg');
  await stores.blobs.put('uploads/flowers/bad.jpg', new Uint8Array([3]), 'image/jpeg');
  const record = { projectId: 'flowers', etag: 'e', bytes: 1, createdAt: 'c', updatedAt: 'u' };
  await stores.samples.putImageIfAbsent({ ...record, imageId: A, key: 'uploads/flowers/daisy/a.jpg', status: 'ready', order: A_ORDER, width: 200, height: 100 });
  await stores.samples.putImageIfAbsent({ ...record, imageId: imageIdFor('uploads/flowers/bad.jpg'), key: 'uploads/flowers/bad.jpg', status: 'failed', reason: 'truncated JPEG', order: 'x' });
  const order = `${A_ORDER}#0000`;
  await stores.samples.putSamplesIfAbsent([{ projectId: 'flowers', sampleId: A, imageId: A, kind: 'image', version: 0, labeledBy: [], order, queueKey: order, createdAt: 'c' }]);
  clock.advance(60 * 60_000);
  const retrains: string[][] = [];
  const app = createApp({
    stores,
    featureVectors: shardFeatureVectors(stores.blobs, stores.clock),
    // Olga administers; Lars labels the garden project only.
    authenticate: async (req) => {
      const user = req.headers.get('x-user') ?? 'olga';
      return { userId: user, groups: user === 'olga' ? ['admin'] : ['labeler'] };
    },
    onLabeled: (_projectId, sampleIds) => retrains.push(sampleIds),
  });
  const post = async (body: unknown, user = 'olga', project = 'flowers') => {
    const res = await app.request(`/api/projects/${project}/features`, {
      method: 'POST',
      headers: { 'x-user': user, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as any };
  };
  return { stores, clock, post, retrains };
}

const f16 = (values: number[]) => Buffer.from(float32ToHalf(values).buffer).toString('base64');
const f32 = (values: number[]) => Buffer.from(new Float32Array(values).buffer).toString('base64');

const ROWS = [
  { file: 'daisy/a.jpg', label: 'daisy', vector: f16([1, 0, 0, 0.5]) },
  { file: 'daisy/a.jpg', box: [10, 20, 50, 60], vector: f16([0, 1, 0, 0.25]) },
  { file: 'daisy/a.jpg', box: [100, 5, 150, 40], label: 'Roses', vector: f16([0, 0, 1, -0.5]) },
  { file: 'daisy/b.jpg', vector: f16([0.5, 0.5, 0, 0]) },
];

async function vectorsOf(stores: MemoryStores, model: string) {
  const matrix = await new EmbeddingReader(stores.blobs, 'flowers', model).load();
  return new Map(matrix.sampleIds.map((id, i) => [id, Array.from(matrix.row(i))]));
}

describe('importing features through the API', () => {
  it('creates box samples right after their image, labels by class name, stores the vectors and adopts the model', async () => {
    const { stores, post, retrains } = await setup();
    const res = await post({ model: 'byo-dinov2', dtype: 'f16', rows: ROWS });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ samplesCreated: 3, labelsApplied: 2, labelsKept: 0, vectors: 4, dims: 4 });

    const box1 = boxSampleId(A, [10, 20, 50, 60]);
    const box2 = boxSampleId(A, [100, 5, 150, 40]);
    const all = (await stores.samples.listSamples('flowers')).items.sort((x, y) => (x.order < y.order ? -1 : 1));
    // Upload order: image a, its boxes (top first), then image b, which was not ingested yet.
    expect(all.map((s) => s.sampleId)).toEqual([A, box2, box1, B]);
    expect(await stores.samples.getSample('flowers', box1)).toMatchObject({ kind: 'box', imageId: A, box: [10, 20, 50, 60], version: 0 });
    expect(all.find((s) => s.sampleId === B)!.order).toMatch(/\|daisy\/b\.jpg#0000$/);
    expect((await stores.samples.queue('flowers')).map((s) => s.sampleId)).toEqual([box1, B]);

    expect((await stores.samples.getSample('flowers', A))!.label).toMatchObject({ confidences: [1, 0, 0], labelerId: 'olga' });
    expect((await stores.samples.getSample('flowers', box2))!.label?.confidences).toEqual([0, 1, 0]);
    const progress = await projectProgress(stores, 'flowers', 'olga');
    expect(progress.byClass).toEqual([{ name: 'daisy', count: 1 }, { name: 'roses', count: 1 }, { name: 'tulips', count: 0 }]);

    const vectors = await vectorsOf(stores, 'byo-dinov2');
    expect(vectors.get(box2)).toEqual([0, 0, 1, -0.5]);
    expect([...vectors.keys()].sort()).toEqual([A, B, box1, box2].sort());
    expect((await stores.projects.get('flowers'))!.embedding).toEqual({ model: 'byo-dinov2' });
    expect(retrains).toEqual([[A, box2]]);
  });

  it('is idempotent: importing the same rows again creates and labels nothing new', async () => {
    const { stores, clock, post } = await setup();
    await post({ model: 'byo', dtype: 'f16', rows: ROWS });
    clock.advance(1000);
    const again = await post({ model: 'byo', dtype: 'f32', rows: ROWS.map((r, i) => ({ ...r, vector: f32([i, i, i, i]) })) });
    expect(again.json).toEqual({ samplesCreated: 0, labelsApplied: 0, labelsKept: 2, vectors: 4, dims: 4 });
    expect((await stores.annotations.listForSample('flowers', A)).length).toBe(1);
    expect((await stores.samples.getSample('flowers', A))!.version).toBe(1);
    expect((await stores.labelers.get('flowers', 'olga'))!.total).toBe(2);
    // The later vectors replace the earlier ones, one row per sample.
    const vectors = await vectorsOf(stores, 'byo');
    expect(vectors.size).toBe(4);
    expect(vectors.get(B)).toEqual([3, 3, 3, 3]);
  });

  it('leaves a sample that someone labeled as it is', async () => {
    const { stores, post } = await setup();
    await annotate(stores, { projectId: 'flowers', sampleId: A, version: 0, labelerId: 'bob', classIndex: 2, requestId: 'bob-label-1' });
    const res = await post({ model: 'byo', dtype: 'f16', rows: [ROWS[0]] });
    expect(res.json).toMatchObject({ labelsApplied: 0, labelsKept: 1 });
    expect((await stores.samples.getSample('flowers', A))!.label).toMatchObject({ confidences: [0, 0, 1], labelerId: 'bob' });
  });

  it('refuses an unknown class, naming the CSV line, and writes nothing', async () => {
    const { stores, post } = await setup();
    const res = await post({ model: 'byo', dtype: 'f16', rows: [ROWS[3], { ...ROWS[1], label: 'sunflower', line: 7 }] });
    expect(res.status).toBe(400);
    expect(res.json.message).toBe('line 7: class "sunflower" is not one of the project\'s classes (daisy, roses, tulips)');
    expect(res.json.line).toBe(7);
    expect((await stores.samples.listSamples('flowers')).items).toHaveLength(1);
    expect((await stores.blobs.list('embeddings/flowers/')).items).toEqual([]);
    expect((await stores.projects.get('flowers'))!.embedding).toBeUndefined();
  });

  it('refuses rows it cannot place, other dims or another model, and non-admins', async () => {
    const { post } = await setup();
    const bad = async (rows: unknown[], model = 'byo') => (await post({ model, dtype: 'f16', rows })).json.message as string;
    expect(await bad([{ ...ROWS[3], file: 'daisy/never.jpg' }])).toContain('row 1: file "daisy/never.jpg" is not uploaded');
    expect(await bad([{ ...ROWS[3], file: 'bad.jpg' }])).toContain('could not be read: truncated JPEG');
    expect(await bad([{ ...ROWS[1], box: [150, 50, 250, 90] }])).toContain('lies outside the 200 x 100 image');
    expect(await bad([{ ...ROWS[1], box: [50, 50, 40, 90] }])).toContain('needs right > left');
    expect(await bad([{ ...ROWS[3], file: '../garden/x.jpg' }])).toContain('not a safe relative path');
    expect(await bad([ROWS[1], ROWS[1]])).toBe('row 2: same file and box as row 1');
    expect(await bad([ROWS[3], { ...ROWS[1], vector: f16([1, 2]) }])).toContain('vector has 2 values, the first row 4');
    expect(await bad([ROWS[3]], 'Bad Name')).toContain('model');

    expect((await post({ model: 'byo', dtype: 'f16', rows: [ROWS[3]] })).status).toBe(200);
    expect(await bad([{ ...ROWS[0], vector: f16([1, 2, 3]) }])).toContain('has 4-dimensional vectors in this project; these have 3');
    const other = await post({ model: 'other', dtype: 'f16', rows: [ROWS[3]] });
    expect(other.status).toBe(409);
    expect(other.json.message).toContain('trains on embedding model "byo"');

    expect((await post({ model: 'byo', dtype: 'f16', rows: [ROWS[3]] }, 'lars', 'garden')).status).toBe(403);
  });
});

describe('the references CSV', () => {
  it('reads the origin format with RFC 4180 quoting and turns top-left-bottom-right into [left, top, right, bottom]', () => {
    const text = '\ufefffilename,bbox,annotation,feat_idx\r\nimages/49.jpg,,forest,0\r\n"images/a, ""b"".jpg",12-40-200-310,,1\r\n\r\nimages/48.jpg,,,2\r\n';
    expect(parseFeatureRefs(text, 3)).toEqual([
      { line: 2, filename: 'images/49.jpg', annotation: 'forest', featIdx: 0 },
      { line: 3, filename: 'images/a, "b".jpg', box: [40, 12, 310, 200], featIdx: 1 },
      { line: 5, filename: 'images/48.jpg', featIdx: 2 },
    ]);
    expect(boxFromCsv('0-0-10-20')).toEqual([0, 0, 20, 10]);
    expect(parseFeatureRefs('feat_idx,filename\n0,x.jpg\n', 1)).toEqual([{ line: 2, filename: 'x.jpg', featIdx: 0 }]);
  });

  it('reports every problem with its line number', () => {
    const text = [
      'filename,bbox,annotation,feat_idx',
      'a.jpg,10-20-5-30,,0',
      'b.jpg,1.5-2-3-4,,1',
      'c.jpg,,,9',
      ',,,2',
      'd.jpg,,,x',
      'e.jpg,,,3',
      'e.jpg,,,4',
      'f.jpg,,,3',
      'g.jpg,,',
    ].join('\n');
    let message = '';
    try {
      parseFeatureRefs(text, 5);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split('\n').slice(1).map((l) => l.trim())).toEqual([
      'line 2: bbox "10-20-5-30": bottom_row 5 must be below top_row 10',
      'line 3: bbox "1.5-2-3-4" must be top_row-left_col-bottom_row-right_col, four whole pixel numbers (e.g. 10-20-110-220)',
      'line 4: feat_idx 9 is out of range: the features matrix has 5 rows (0..4)',
      'line 5: filename is empty',
      'line 6: feat_idx "x" is not a whole number',
      'line 8: same filename and bbox as line 7',
      'line 9: feat_idx 3 is used by line 7 too',
      'line 10: 3 fields, the header has 4 (quote fields that contain commas)',
    ]);
    expect(() => parseFeatureRefs('name,feat_idx\na,0\n', 1)).toThrow('the header needs the column(s) filename');
    expect(() => parseCsvRecords('filename,feat_idx\n"a.jpg,0\n')).toThrow('line 2: a quoted field is never closed');
    expect(() => parseCsvRecords('filename,feat_idx\n"a"b,0\n')).toThrow('line 2: unexpected text after a closing quote');
  });
});

describe('planning an import from files', () => {
  it('finds each file inside the images folder and refuses files elsewhere and unusable vectors', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'winnow-plan-'));
    await mkdir(path.join(dir, 'images/daisy'), { recursive: true });
    await writeFile(path.join(dir, 'images/daisy/1.jpg'), 'x');
    await writeFile(path.join(dir, 'outside.jpg'), 'x');
    await writeFile(path.join(dir, 'f.npy'), npy('<f4', [3, 2], new Uint8Array(new Float32Array([1, 2, 3, 4, NaN, 5]).buffer)));
    const csv = (rows: string[]) => writeFile(path.join(dir, 'refs.csv'), ['filename,bbox,annotation,feat_idx', ...rows].join('\n'));
    const plan = () => planFeatureImport({ csv: path.join(dir, 'refs.csv'), features: path.join(dir, 'f.npy'), images: path.join(dir, 'images') });

    await csv(['daisy/1.jpg,,daisy,0', `${path.join(dir, 'images/daisy/1.jpg')},1-2-3-4,,1`]);
    const ok = await plan();
    expect(ok.files).toEqual(['daisy/1.jpg']);
    expect(ok.rows).toEqual([
      { line: 2, file: 'daisy/1.jpg', label: 'daisy', featIdx: 0 },
      { line: 3, file: 'daisy/1.jpg', box: [2, 1, 4, 3], featIdx: 1 },
    ]);

    await csv([`${path.join(dir, 'outside.jpg')},,,0`, 'daisy/2.jpg,,,1', 'daisy/1.jpg,,,2']);
    await expect(plan()).rejects.toThrow(
      new RegExp(`line 2: .*outside.jpg not found inside .*images\\n.*line 3: daisy/2.jpg not found.*\\n.*line 4: feat_idx 2: value NaN in column 0 is not a finite number`),
    );
  });
});

/** A tiny .npy writer, independent of the reader under test. */
function npy(descr: string, shape: number[], body: Uint8Array, fortran = false): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header = header.padEnd(Math.ceil((header.length + 11) / 64) * 64 - 11) + '\n';
  return new Uint8Array([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8, ...Buffer.from(header), ...body]);
}

describe('the .npy reader', () => {
  const values = [0.5, -2, 3.25, 1e-3, 65504, -0.125];
  it('reads float16, float32 and float64 matrices, either byte order', () => {
    const le32 = new Uint8Array(new Float32Array(values).buffer);
    const be32 = new Uint8Array(le32.length);
    const view = new DataView(be32.buffer);
    values.forEach((v, i) => view.setFloat32(i * 4, v, false));
    for (const bytes of [
      npy('<f4', [2, 3], le32),
      npy('>f4', [2, 3], be32),
      npy('<f8', [2, 3], new Uint8Array(new Float64Array(values).buffer)),
      npy('<f2', [2, 3], new Uint8Array(float32ToHalf(values).buffer)),
    ]) {
      const m = parseNpy(bytes);
      expect([m.rows, m.cols]).toEqual([2, 3]);
      Array.from(m.data).forEach((v, i) => expect(v).toBeCloseTo(values[i], 3));
    }
  });

  it('explains files it cannot use', () => {
    const body = new Uint8Array(new Float32Array(values).buffer);
    expect(() => parseNpy(npy('<f4', [6], body))).toThrow('expected a 2-d matrix');
    expect(() => parseNpy(npy('<f4', [2, 3], body, true))).toThrow('Fortran order');
    expect(() => parseNpy(npy('<i4', [2, 3], body))).toThrow('unsupported .npy dtype <i4');
    expect(() => parseNpy(npy('<f4', [3, 3], body))).toThrow('truncated');
    expect(() => parseNpy(new Uint8Array([1, 2, 3]))).toThrow('not a .npy file');
  });
});
