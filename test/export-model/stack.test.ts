// The exported classifier reproduces the app's predictions (issue 18 part 2), on the running local stack with the real
// MobileNetV2 embedder and tf_flowers_dev photos: labels go in through the HTTP API, the trainer fits once, and
//  - `winnow export-model` (the command a user runs) downloads one ONNX file that onnxruntime-node runs on the image
//    tensors the embedder takes: every image gets the app's top class and the app's probabilities within 1e-4;
//  - the plain head (weights.npy, bias.npy, classes.json) applied to the stored embeddings gives the same;
//  - the model card beside the file names the classes, the labels, the embedder and its pre-processing;
//  - a project without a trained model gets a 409 naming the problem.
// "The app's probabilities" are the trainer's own: its model (re-fitted by the trainer's code from the same labels,
// checked to rank exactly as the running app's trainer did) applied by the learning core's scoreAll to the stored
// embeddings, i.e. the float32 values the app stores (as fp16) in its ranking and shows as suggestions.

import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { unzipSync } from 'fflate';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNpy } from '../../functions/cli/npy.js';
import { importFolder } from '../../functions/cli/import.js';
import { localTarget } from '../../functions/cli/stack-client.js';
import { WORKING_SIDE } from '../../functions/export/model-export.js';
import { onnxMetadata } from '../../functions/export/model-onnx.js';
import { imageIdFor } from '../../functions/domain/ingest.js';
import { scoreAll, type F32Embeddings, type SoftmaxModel } from '../../functions/domain/learning/index.js';
import type { LocalStack } from '../../functions/local/stack.js';
import { retrainProject, type ProjectTrainingState } from '../../functions/domain/retrain.js';
import { rankingRetrainPorts } from '../../functions/adapters/ranking-codec.js';
import { decodeImage, DEFAULT_WORKING_SIDE } from '../../functions/vision/decode.js';
import { loadManifest } from '../../functions/vision/manifest.js';
import { imageTensor } from '../../functions/vision/preprocess.js';
import { FLOWERS, MODELS, REPO } from '../support/paths.js';
import { devNull } from '../support/streams.js';
import { apiClient, startTestStack, tempDir } from '../support/stack.js';

const PROJECT = 'flowers';
const CLASSES = ['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips'];
const PER_CLASS = 8;
const LABELED_PER_CLASS = 4;
const EMBEDDER = 'mobilenetv2-features';
const TOLERANCE = 1e-4;

const winnow = (args: string[]) =>
  promisify(execFile)(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', path.join(REPO, 'functions/cli/main.ts'), ...args], { cwd: REPO })
    .then((r) => ({ code: 0, out: r.stdout + r.stderr }))
    .catch((e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }));

const argmax = (p: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
  return best;
};
/** A 1-d little-endian float32 .npy (format 1.0), read by hand: the header says '<f4' and shape (n,). */
function vectorNpy(bytes: Uint8Array): Float32Array {
  const headerLength = bytes[8] | (bytes[9] << 8);
  const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLength));
  expect(header).toMatch(/'descr': '<f4'.*'shape': \(\d+,\)/);
  return new Float32Array(bytes.slice(10 + headerLength).buffer);
}
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};

describe('export-model on the local stack', () => {
  let stack: LocalStack | undefined;
  let dataDir: string;
  let work: string;
  let files: string[];
  /** The trainer's model and its float32 probabilities per sample id (what the app stores and shows). */
  let appModel: SoftmaxModel;
  const appProbs = new Map<string, Float32Array>();
  let embeddings: F32Embeddings;
  let rowOf: Map<string, number>;
  afterAll(async () => stack?.close());

  beforeAll(async () => {
    dataDir = await tempDir('export-model');
    work = await tempDir('export-model-out');
    files = [];
    for (const c of CLASSES) files.push(...(await readdir(path.join(FLOWERS, c))).filter((f) => f.endsWith('.jpg')).sort().slice(0, PER_CLASS).map((f) => `${c}/${f}`));
    // No retrain until the test asks for one: the app's model is then one fit on all the labels.
    stack = await startTestStack(dataDir, { trainerPriority: 'normal', trainer: { everyLabels: 1_000_000, afterMs: 3_600_000 }, modelDir: MODELS });
    const target = await localTarget(dataDir);
    await importFolder(target, { dir: FLOWERS, files, project: PROJECT, classes: CLASSES, concurrency: 4, wait: true, out: devNull() });
    const api = apiClient(stack.url, 'olga');
    for (const [i, file] of files.entries()) {
      if (i % PER_CLASS >= LABELED_PER_CLASS) continue;
      const sampleId = imageIdFor(`uploads/${PROJECT}/${file}`);
      const res = await api('POST', `/api/projects/${PROJECT}/samples/${sampleId}/annotations`, {
        version: 0, requestId: `export-${sampleId}`, classIndex: CLASSES.indexOf(file.split('/')[0]),
      });
      expect(res.status, JSON.stringify(res.json)).toBe(201);
    }
    await stack.trainer.flush(PROJECT);
    const shown = (await stack.stores.rankings.get(PROJECT))!;
    expect(shown.coldStart).toBe(false);

    // The trainer's code again, from the same labels: it must rank exactly as the running app's trainer did.
    const state: ProjectTrainingState = {};
    await retrainProject(stack.stores, rankingRetrainPorts, (await stack.stores.projects.get(PROJECT))!, state, { embedder: EMBEDDER });
    const again = (await stack.stores.rankings.get(PROJECT))!;
    expect(again.sampleIds).toEqual(shown.sampleIds);
    expect(Array.from(again.probs!)).toEqual(Array.from(shown.probs!));
    appModel = state.model!;
    embeddings = state.embeddings as F32Embeddings;
    rowOf = state.rowOf!;
    const probs = scoreAll(appModel, embeddings);
    for (const [id, row] of rowOf) appProbs.set(id, probs.subarray(row * CLASSES.length, (row + 1) * CLASSES.length));
    expect(appProbs.size).toBe(files.length);
  }, 300_000);

  it('exports one ONNX file that gives the app\'s predictions on real images, with classes and a model card', async () => {
    const out = path.join(work, 'model.onnx');
    const run = await winnow(['export-model', '--project', PROJECT, '-o', out, '--data', dataDir]);
    expect(run.out).toContain(out);
    expect(run.code).toBe(0);

    const session = await ort.InferenceSession.create(await readFile(out));
    // The classifier's outputs only: the embedder's ImageNet head is not in the file.
    expect(session.outputNames).toEqual(['probabilities', 'embedding']);
    const manifest = await loadManifest(EMBEDDER);
    const inputName = session.inputNames[0];
    expect(inputName).toBe(manifest.input.name);
    let worst = 0;
    let agreed = 0;
    for (const file of files) {
      const image = await decodeImage(new Uint8Array(await readFile(path.join(FLOWERS, file))));
      const { data } = await imageTensor(image, manifest.preprocess);
      const result = await session.run({ [inputName]: new ort.Tensor('float32', data, [1, 3, 224, 224]) });
      const got = result.probabilities.data as Float32Array;
      const app = appProbs.get(imageIdFor(`uploads/${PROJECT}/${file}`))!;
      expect(argmax(got), file).toBe(argmax(app));
      expect(maxAbsDiff(got, app), file).toBeLessThanOrEqual(TOLERANCE);
      worst = Math.max(worst, maxAbsDiff(got, app));
      if (CLASSES[argmax(app)] === file.split('/')[0]) agreed++;
    }
    const bytes = (await readFile(out)).byteLength;
    console.log(`export-model: ${files.length} images, largest probability difference ONNX vs app ${worst.toExponential(2)}; app top class right on ${agreed}; file ${bytes} bytes`);

    const meta = onnxMetadata(await readFile(out));
    expect(JSON.parse(meta.classes)).toEqual(CLASSES);
    const card = JSON.parse(await readFile(path.join(work, 'model.card.json'), 'utf8'));
    expect(card).toMatchObject({
      classes: CLASSES,
      labels: { trainedOn: CLASSES.length * LABELED_PER_CLASS },
      embedder: { name: EMBEDDER, sha256: manifest.sha256, dims: 1280 },
      input: { name: 'input', shape: ['batch', 3, 224, 224] },
      preprocessing: { resize: 'shorter-side-then-center-crop', resizeTo: 256, crop: 224 },
      head: { temperature: appModel.temperature ?? 1 },
    });
    // The pre-processing in words names the decoder's working size (kept beside it: the API does not load the decoder).
    expect(WORKING_SIDE).toBe(DEFAULT_WORKING_SIDE);
    expect(card.preprocessing.description).toContain(`shrunk to ${DEFAULT_WORKING_SIDE} px`);
    expect(card.accuracyEstimate).toHaveProperty('accuracy');
    expect(card.liveError).toHaveProperty('errorRate');
    expect(Date.now() - Date.parse(card.createdAt)).toBeLessThan(10 * 60_000);
  }, 180_000);

  it('exports the plain head, which gives the app\'s probabilities from the stored embeddings', async () => {
    const res = await fetch(`${stack!.url}/api/projects/${PROJECT}/classifier?format=head`, { headers: { 'x-winnow-user': 'olga' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain(`${PROJECT}-classifier-head.zip`);
    const zip = unzipSync(new Uint8Array(await res.arrayBuffer()));
    expect(Object.keys(zip).sort()).toEqual(['bias.npy', 'classes.json', 'model-card.json', 'weights.npy']);
    expect(JSON.parse(new TextDecoder().decode(zip['classes.json']))).toEqual(CLASSES);
    const weights = parseNpy(zip['weights.npy']);
    const bias = vectorNpy(zip['bias.npy']);
    expect(bias.length).toBe(CLASSES.length);
    expect([weights.rows, weights.cols]).toEqual([CLASSES.length, 1280]);
    const x = new Float32Array(1280);
    for (const [id, row] of rowOf) {
      // softmax(W x + b) on the stored (L2-normalised) embedding, as any other program would compute it.
      for (let d = 0; d < 1280; d++) x[d] = embeddings.data[row * 1280 + d];
      const logits = Array.from({ length: CLASSES.length }, (_, c) => {
        let z = bias[c];
        for (let d = 0; d < 1280; d++) z += weights.data[c * 1280 + d] * x[d];
        return z;
      });
      const max = Math.max(...logits);
      const e = logits.map((z) => Math.exp(z - max));
      const sum = e.reduce((a, b) => a + b, 0);
      const probs = e.map((v) => v / sum);
      expect(maxAbsDiff(probs, appProbs.get(id)!)).toBeLessThanOrEqual(TOLERANCE);
    }
  });

  it('answers 409 naming the problem for a project without a trained model', async () => {
    const api = apiClient(stack!.url, 'olga');
    expect((await api('POST', '/api/projects', { id: 'empty', classes: ['a', 'b'] })).status).toBe(201);
    const res = await api('GET', '/api/projects/empty/classifier');
    expect(res.status).toBe(409);
    expect(res.json.message).toContain('no trained model');
    const run = await winnow(['export-model', '--project', 'empty', '-o', path.join(work, 'none.onnx'), '--data', dataDir]);
    expect(run.code).not.toBe(0);
    expect(run.out).toContain('no trained model');
  }, 60_000);
});
