// A project trained on a registered embedder (a user's ONNX file in the bucket, functions/domain/models.ts) exports
// one ONNX file built from that file: onnxruntime-node runs it on the embedder's input tensors and gets the trainer's
// probabilities (same top class, within 1e-4). A small embedder generated here stands in for the user's; the
// registration is stored as the registration route stores it.

import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { onnx as OnnxNamespace } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStores, type MemoryStores } from '../../functions/adapters/memory/index.js';
import { createApp } from '../../functions/api/app.js';
import { annotate } from '../../functions/domain/annotate.js';
import { scoreAll } from '../../functions/domain/learning/index.js';
import { MODEL_LAYOUT, type RegisteredModel } from '../../functions/domain/models.js';
import { createProject } from '../../functions/domain/projects.js';
import { onnxMetadata } from '../../functions/export/model-onnx.js';
import { retrainProject, type ProjectTrainingState } from '../../functions/trainer/retrain.js';
import { appendEmbeddings } from '../../functions/vision/embeddings.js';
import { l2normalize } from '../../functions/vision/outputs.js';
import { ManualClock, sampleFixture } from '../support/fixtures.js';

const { onnx } = createRequire(import.meta.url)('onnx-proto') as { onnx: typeof OnnxNamespace };

const NAME = 'tiny-embedder';
const SIDE = 8;
const DIMS = 24;
const CLASSES = ['round', 'square', 'star'];
const SAMPLES = 36;

/** Deterministic values in [-scale, scale). */
function values(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s / 2 ** 32) * 2 - 1) * scale;
  });
}

/** image [batch, 3, SIDE, SIDE] -> Flatten -> Gemm -> "embedding" [batch, DIMS]. */
function tinyEmbedder(): Uint8Array {
  const float = (name: string, dims: number[], data: Float32Array) =>
    onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer) });
  const info = (name: string, dims: (number | string)[]) =>
    onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
    });
  const flat = 3 * SIDE * SIDE;
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 7,
      opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'tiny',
        node: [
          onnx.NodeProto.create({ opType: 'Flatten', input: ['image'], output: ['flat'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] }),
          onnx.NodeProto.create({ opType: 'Gemm', input: ['flat', 'w', 'b'], output: ['embedding'] }),
        ],
        input: [info('image', ['batch', 3, SIDE, SIDE])],
        output: [info('embedding', ['batch', DIMS])],
        initializer: [float('w', [flat, DIMS], values(flat * DIMS, 3, 0.2)), float('b', [DIMS], values(DIMS, 5, 0.1))],
      },
    }),
  ).finish();
}

describe('export of a project trained on a registered embedder', () => {
  let stores: MemoryStores;
  let app: ReturnType<typeof createApp>;
  const tensors: Float32Array[] = [];
  let appProbs: Float32Array;
  let rowOf: Map<string, number>;
  const sampleIds: string[] = [];

  beforeAll(async () => {
    stores = createMemoryStores(new ManualClock());
    const file = tinyEmbedder();
    const sha256 = createHash('sha256').update(file).digest('hex');
    await stores.blobs.put(MODEL_LAYOUT.file(sha256), file, 'application/octet-stream');
    const record: RegisteredModel = {
      name: NAME,
      role: 'embedder',
      sha256,
      bytes: file.byteLength,
      manifest: {
        name: NAME, description: 'generated for a test', role: 'embedder', file: `${sha256}.onnx`, sha256, bytes: file.byteLength, license: 'test', source: {},
        input: { name: 'image', shape: ['batch', 3, SIDE, SIDE], layout: 'NCHW', dtype: 'float32' },
        preprocess: { resize: 'shorter-side-then-center-crop', resizeTo: SIDE, crop: SIDE, kernel: 'linear', channels: 'RGB', scale: '1/255', mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
        outputs: [{ name: 'embedding', decode: 'embedding', dims: DIMS }],
        maxBatch: 8,
      },
      trial: { role: 'embedder', items: [], msPerImage: 1, source: { synthetic: true } },
      registeredAt: '2026-12-06T10:00:00Z',
      registeredBy: 'olga',
    };
    await stores.blobs.put(MODEL_LAYOUT.record(NAME), new TextEncoder().encode(JSON.stringify(record)), 'application/json');

    // "Images": tensors whose class shifts one colour plane; embedded by the registered file as ingest would.
    await createProject(stores, { id: 'shapes', classes: CLASSES }, 'olga');
    const session = await ort.InferenceSession.create(file);
    const rows = [];
    for (let i = 0; i < SAMPLES; i++) {
      const t = values(3 * SIDE * SIDE, 100 + i);
      const c = i % CLASSES.length;
      for (let k = c * SIDE * SIDE; k < (c + 1) * SIDE * SIDE; k++) t[k] += 1.5;
      tensors.push(t);
      const out = await session.run({ image: new ort.Tensor('float32', t, [1, 3, SIDE, SIDE]) });
      const sample = sampleFixture('shapes', i);
      sampleIds.push(sample.sampleId);
      await stores.samples.putSamplesIfAbsent([sample]);
      rows.push({ sampleId: sample.sampleId, vector: l2normalize(out.embedding.data as Float32Array) });
    }
    await appendEmbeddings(stores.blobs, 'shapes', NAME, rows);
    for (let i = 0; i < 18; i++) {
      await annotate(stores, { projectId: 'shapes', sampleId: sampleIds[i], labelerId: 'olga', version: 0, requestId: `label-${i}-xxxx`, classIndex: i % CLASSES.length });
    }
    const state: ProjectTrainingState = {};
    await retrainProject(stores, (await stores.projects.get('shapes'))!, state, { embedder: NAME });
    appProbs = scoreAll(state.model!, state.embeddings!);
    rowOf = state.rowOf!;
    app = createApp({ stores, authenticate: async () => ({ userId: 'olga', groups: ['admin'] }) });
  });

  it("builds the ONNX file from the registered embedder and reproduces the trainer's probabilities", async () => {
    const res = await app.request('/api/projects/shapes/classifier');
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const meta = onnxMetadata(bytes);
    expect(JSON.parse(meta.classes)).toEqual(CLASSES);
    expect(JSON.parse(meta.model_card)).toMatchObject({ embedder: { name: NAME, dims: DIMS }, input: { name: 'image' }, labels: { trainedOn: 18 } });
    const session = await ort.InferenceSession.create(bytes);
    let worst = 0;
    for (const [i, t] of tensors.entries()) {
      const got = (await session.run({ image: new ort.Tensor('float32', t, [1, 3, SIDE, SIDE]) })).probabilities.data as Float32Array;
      const row = rowOf.get(sampleIds[i])!;
      const want = appProbs.subarray(row * CLASSES.length, (row + 1) * CLASSES.length);
      const top = (p: ArrayLike<number>) => Array.from(p).indexOf(Math.max(...Array.from(p)));
      expect(top(got)).toBe(top(want));
      for (let c = 0; c < CLASSES.length; c++) worst = Math.max(worst, Math.abs(got[c] - want[c]));
    }
    expect(worst).toBeLessThanOrEqual(1e-4);
  });

  it('answers 503 naming the file when the registered embedder is missing from the bucket', async () => {
    const record = JSON.parse(new TextDecoder().decode((await stores.blobs.get(MODEL_LAYOUT.record(NAME)))!.body)) as RegisteredModel;
    await stores.blobs.delete(MODEL_LAYOUT.file(record.sha256));
    const res = await app.request('/api/projects/shapes/classifier');
    expect(res.status).toBe(503);
    expect(((await res.json()) as { message: string }).message).toContain(`the file of the registered embedder "${NAME}" is missing from the bucket`);
  });
});
