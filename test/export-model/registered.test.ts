// A project trained on a registered embedder (a user's ONNX file in the bucket, functions/domain/models.ts) exports
// one ONNX file built from that file: onnxruntime-node runs it on the embedder's input tensors and gets the trainer's
// probabilities (same top class, within 1e-4). A small embedder generated here stands in for the user's; the
// registration is stored as the registration route stores it.

import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { onnx as OnnxNamespace } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createMemoryStores, type MemoryStores } from '../../functions/adapters/memory/index.js';
import { createApp } from '../../functions/api/app.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import { annotate } from '../../functions/domain/annotate.js';
import { scoreAll } from '../../functions/domain/learning/index.js';
import { MODEL_LAYOUT, type RegisteredModel } from '../../functions/domain/models.js';
import { createProject } from '../../functions/domain/projects.js';
import { onnxMetadata } from '../../functions/export/model-onnx.js';
import { retrainProject, type ProjectTrainingState } from '../../functions/domain/retrain.js';
import { rankingRetrainPorts } from '../../functions/adapters/ranking-codec.js';
import { appendEmbeddings } from '../../functions/adapters/embeddings/shards.js';
import type { EmbeddingOutput } from '../../functions/vision/manifest.js';
import { embeddingOf } from '../../functions/vision/outputs.js';
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

const float = (name: string, dims: number[], data: Float32Array) =>
  onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer) });
const info = (name: string, dims: (number | string)[]) =>
  onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });

/**
 * image [batch, 3, SIDE, SIDE] -> Flatten -> Gemm -> "embedding" [batch, DIMS]; with `tokens`, reshaped to a ViT-like
 * sequence "embedding" [batch, tokens, DIMS / tokens].
 */
function tinyEmbedder(tokens?: number): Uint8Array {
  const flat = 3 * SIDE * SIDE;
  const nodes = [
    onnx.NodeProto.create({ opType: 'Flatten', input: ['image'], output: ['flat'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] }),
    onnx.NodeProto.create({ opType: 'Gemm', input: ['flat', 'w', 'b'], output: [tokens ? 'projected' : 'embedding'] }),
  ];
  const initializer = [float('w', [flat, DIMS], values(flat * DIMS, 3, 0.2)), float('b', [DIMS], values(DIMS, 5, 0.1))];
  if (tokens) {
    nodes.push(onnx.NodeProto.create({ opType: 'Reshape', input: ['projected', 'shape'], output: ['embedding'] }));
    initializer.push(onnx.TensorProto.create({ name: 'shape', dims: [3], dataType: onnx.TensorProto.DataType.INT64, int64Data: [0, tokens, DIMS / tokens] }));
  }
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 7,
      opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'tiny',
        node: nodes,
        input: [info('image', ['batch', 3, SIDE, SIDE])],
        output: [info('embedding', tokens ? ['batch', tokens, DIMS / tokens] : ['batch', DIMS])],
        initializer,
      },
    }),
  ).finish();
}

const stores: MemoryStores = createMemoryStores(new ManualClock());
const app = createApp({ stores, featureVectors: shardFeatureVectors(stores.blobs, stores.clock), authenticate: async () => ({ userId: 'olga', groups: ['admin'] }) });

interface Trained {
  tensors: Float32Array[];
  /** The trainer's probabilities per tensor (rows in tensor order). */
  appProbs: Float32Array[];
}

/**
 * Registers `file` as `name` (as the registration route stores it), makes a project on it whose "images" are
 * tensors with one colour plane shifted by class, embeds them with the file the way ingest does (vision/outputs.ts),
 * labels half, and lets the trainer fit.
 */
async function trainedOn(projectId: string, name: string, file: Uint8Array, output: EmbeddingOutput): Promise<Trained> {
  const sha256 = createHash('sha256').update(file).digest('hex');
  await stores.blobs.put(MODEL_LAYOUT.file(sha256), file, 'application/octet-stream');
  const record: RegisteredModel = {
    name,
    role: 'embedder',
    sha256,
    bytes: file.byteLength,
    manifest: {
      name, description: 'generated for a test', role: 'embedder', file: `${sha256}.onnx`, sha256, bytes: file.byteLength, license: 'test', source: {},
      input: { name: 'image', shape: ['batch', 3, SIDE, SIDE], layout: 'NCHW', dtype: 'float32' },
      preprocess: { resize: 'shorter-side-then-center-crop', resizeTo: SIDE, crop: SIDE, kernel: 'linear', channels: 'RGB', scale: '1/255', mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
      outputs: [output],
      maxBatch: 8,
    },
    trial: { role: 'embedder', items: [], msPerImage: 1, source: { synthetic: true } },
    registeredAt: '2026-12-06T10:00:00Z',
    registeredBy: 'olga',
  };
  await stores.blobs.put(MODEL_LAYOUT.record(name), new TextEncoder().encode(JSON.stringify(record)), 'application/json');
  await createProject(stores, { id: projectId, classes: CLASSES }, 'olga');
  const session = await ort.InferenceSession.create(file);
  const tensors: Float32Array[] = [];
  const sampleIds: string[] = [];
  const rows = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t = values(3 * SIDE * SIDE, 100 + i);
    const c = i % CLASSES.length;
    for (let k = c * SIDE * SIDE; k < (c + 1) * SIDE * SIDE; k++) t[k] += 1.5;
    tensors.push(t);
    const out = (await session.run({ image: new ort.Tensor('float32', t, [1, 3, SIDE, SIDE]) }))[output.name];
    const sample = sampleFixture(projectId, i);
    sampleIds.push(sample.sampleId);
    await stores.samples.putSamplesIfAbsent([sample]);
    rows.push({ sampleId: sample.sampleId, vector: embeddingOf(output, { [output.name]: { data: out.data as Float32Array, dims: out.dims.slice(1) } }) });
  }
  await appendEmbeddings(stores.blobs, projectId, name, rows);
  for (let i = 0; i < SAMPLES / 2; i++) {
    await annotate(stores, { projectId, sampleId: sampleIds[i], labelerId: 'olga', version: 0, requestId: `label-${i}-xxxx`, classIndex: i % CLASSES.length });
  }
  const state: ProjectTrainingState = {};
  await retrainProject(stores, rankingRetrainPorts, (await stores.projects.get(projectId))!, state, { embedder: name });
  const probs = scoreAll(state.model!, state.embeddings!);
  const C = CLASSES.length;
  return { tensors, appProbs: sampleIds.map((id) => probs.subarray(state.rowOf!.get(id)! * C, (state.rowOf!.get(id)! + 1) * C)) };
}

/** The exported file on every tensor against the trainer's probabilities: same top class, largest difference. */
async function compare(bytes: Uint8Array, trained: Trained): Promise<number> {
  const session = await ort.InferenceSession.create(bytes);
  const top = (p: ArrayLike<number>) => Array.from(p).indexOf(Math.max(...Array.from(p)));
  let worst = 0;
  for (const [i, t] of trained.tensors.entries()) {
    const got = (await session.run({ image: new ort.Tensor('float32', t, [1, 3, SIDE, SIDE]) })).probabilities.data as Float32Array;
    const want = trained.appProbs[i];
    expect(top(got)).toBe(top(want));
    for (let c = 0; c < CLASSES.length; c++) worst = Math.max(worst, Math.abs(got[c] - want[c]));
  }
  return worst;
}

describe('export of a project trained on a registered embedder', () => {
  it("builds the ONNX file from the registered embedder and reproduces the trainer's probabilities", async () => {
    const trained = await trainedOn('shapes', NAME, tinyEmbedder(), { name: 'embedding', decode: 'embedding', dims: DIMS });
    const res = await app.request('/api/projects/shapes/classifier');
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const meta = onnxMetadata(bytes);
    expect(JSON.parse(meta.classes)).toEqual(CLASSES);
    expect(JSON.parse(meta.model_card)).toMatchObject({ embedder: { name: NAME, dims: DIMS }, input: { name: 'image' }, labels: { trainedOn: SAMPLES / 2 } });
    expect(await compare(bytes, trained)).toBeLessThanOrEqual(1e-4);
  });

  it('takes the token ingest takes from a [batch, tokens, dims] output (ViT-style), with or without one named', async () => {
    const named = await trainedOn('tokens', 'tiny-tokens', tinyEmbedder(4), { name: 'embedding', decode: 'embedding', dims: DIMS / 4, token: 2 });
    const res = await app.request('/api/projects/tokens/classifier');
    expect(res.status).toBe(200);
    expect(await compare(new Uint8Array(await res.arrayBuffer()), named)).toBeLessThanOrEqual(1e-4);
    const first = await trainedOn('tokens0', 'tiny-tokens0', tinyEmbedder(3), { name: 'embedding', decode: 'embedding', dims: DIMS / 3 });
    const res0 = await app.request('/api/projects/tokens0/classifier');
    expect(res0.status).toBe(200);
    expect(await compare(new Uint8Array(await res0.arrayBuffer()), first)).toBeLessThanOrEqual(1e-4);
  });

  it('answers 503 naming the file when the registered embedder is missing from the bucket', async () => {
    const record = JSON.parse(new TextDecoder().decode((await stores.blobs.get(MODEL_LAYOUT.record(NAME)))!.body)) as RegisteredModel;
    await stores.blobs.delete(MODEL_LAYOUT.file(record.sha256));
    const res = await app.request('/api/projects/shapes/classifier');
    expect(res.status).toBe(503);
    expect(((await res.json()) as { message: string }).message).toContain(`the file of the registered embedder "${NAME}" is missing from the bucket`);
  });
});
