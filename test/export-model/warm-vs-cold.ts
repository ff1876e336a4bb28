// How far the labeling view's model is from the exported one (README, "Take the trained classifier with you"):
// the trainer warm-starts each retrain from the last model, the export fits once from scratch on the same labels.
// Real MobileNetV2 embeddings of tf_flowers_dev photos, labels given 4 at a time with a retrain after each batch (as
// the trainer does), then one cold retrain; prints the difference of their probabilities on every image, and what
// leaving out the float16 round trip of the stored embeddings would change.
//
//   node --import tsx test/export-model/warm-vs-cold.ts          (PER=40 images per class, LABELS=100)

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { annotate } from '../../functions/domain/annotate.js';
import { normalizeRows, scoreAll } from '../../functions/domain/learning/index.js';
import { createProject } from '../../functions/domain/projects.js';
import { retrainProject, type ProjectTrainingState } from '../../functions/domain/retrain.js';
import { rankingRetrainPorts } from '../../functions/adapters/ranking-codec.js';
import { appendEmbeddings } from '../../functions/adapters/embeddings/shards.js';
import { createEmbedder } from '../../functions/vision/embedder.js';
import { ManualClock, sampleFixture } from '../support/fixtures.js';
import { FLOWERS, MODELS } from '../support/paths.js';

const CLASSES = ['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips'];
const PER = Number(process.env.PER ?? 40);
const LABELS = Number(process.env.LABELS ?? 100);
const BATCH = 4;
const EMBEDDER = 'mobilenetv2-features';

async function main() {
  const embedder = await createEmbedder({ modelDir: MODELS });
  const files: { file: string; c: number }[] = [];
  for (const [c, name] of CLASSES.entries()) {
    const names = (await readdir(path.join(FLOWERS, name))).filter((f) => f.endsWith('.jpg')).sort().slice(0, PER);
    for (const f of names) files.push({ file: path.join(FLOWERS, name, f), c });
  }
  const vectors: Float32Array[] = [];
  for (let i = 0; i < files.length; i += 16) {
    vectors.push(...(await embedder.embed(await Promise.all(files.slice(i, i + 16).map(async (f) => new Uint8Array(await readFile(f.file)))))));
  }
  const stores = createMemoryStores(new ManualClock());
  await createProject(stores, { id: 'p', classes: CLASSES }, 'o');
  const samples = files.map((_, i) => sampleFixture('p', i));
  await stores.samples.putSamplesIfAbsent(samples);
  await appendEmbeddings(stores.blobs, 'p', EMBEDDER, samples.map((s, i) => ({ sampleId: s.sampleId, vector: vectors[i] })));
  const project = (await stores.projects.get('p'))!;
  // A fixed shuffle of the images is the label order.
  const order = files.map((_, i) => i).sort((a, b) => ((a * 7919) % 1009) - ((b * 7919) % 1009)).slice(0, LABELS);
  const warm: ProjectTrainingState = {};
  for (let k = 0; k < order.length; k += BATCH) {
    const batch = order.slice(k, k + BATCH);
    for (const i of batch) {
      await annotate(stores, { projectId: 'p', sampleId: samples[i].sampleId, labelerId: 'o', version: 0, requestId: `r-${i}-xxxxx`, classIndex: files[i].c });
    }
    await retrainProject(stores, rankingRetrainPorts, project, warm, { embedder: EMBEDDER, changed: batch.map((i) => samples[i].sampleId) });
  }
  const cold: ProjectTrainingState = {};
  await retrainProject(stores, rankingRetrainPorts, project, cold, { embedder: EMBEDDER });
  const C = CLASSES.length;
  const a = scoreAll(warm.model!, warm.embeddings!);
  const b = scoreAll(cold.model!, cold.embeddings!);
  let max = 0;
  let sum = 0;
  let flips = 0;
  const top = (p: Float32Array, r: number) => {
    let best = 0;
    for (let c = 1; c < C; c++) if (p[r * C + c] > p[r * C + best]) best = c;
    return best;
  };
  for (let r = 0; r < files.length; r++) {
    for (let c = 0; c < C; c++) {
      const d = Math.abs(a[r * C + c] - b[r * C + c]);
      max = Math.max(max, d);
      sum += d;
    }
    if (top(a, r) !== top(b, r)) flips++;
  }
  // The cold model on the embeddings before their float16 round trip.
  const dim = vectors[0].length;
  const unrounded = new Float32Array(files.length * dim);
  samples.forEach((s, i) => unrounded.set(vectors[i], cold.rowOf!.get(s.sampleId)! * dim));
  normalizeRows(unrounded, dim);
  const u = scoreAll(cold.model!, { kind: 'f32', rows: files.length, dim, data: unrounded });
  let fp16 = 0;
  for (let k = 0; k < u.length; k++) fp16 = Math.max(fp16, Math.abs(u[k] - b[k]));
  console.log(`| images | labels | retrains | warm vs cold: max abs | mean abs | top class differs | without the fp16 round trip: max abs |`);
  console.log(`| --- | --- | --- | --- | --- | --- | --- |`);
  console.log(`| ${files.length} | ${order.length} | ${Math.ceil(order.length / BATCH)} | ${max.toFixed(4)} | ${(sum / (files.length * C)).toFixed(4)} | ${flips} | ${fp16.toExponential(2)} |`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
