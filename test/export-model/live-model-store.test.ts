// The trainer's saved classifier (functions/domain/classifier-store.ts) on the in-memory fakes: every retrain saves the
// model it ranked with under the ranking's generation, bit for bit (the export then gives the probabilities the
// ranking holds); a damaged object is reported, not thrown; deleting the project removes it, with the project's
// re-embed job record.

import { describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { annotate } from '../../functions/domain/annotate.js';
import { classifierKey, loadLiveClassifier } from '../../functions/domain/classifier-store.js';
import { runDeletion, startProjectDeletion } from '../../functions/domain/deletion.js';
import { normalizeRows, scoreAll, type F32Embeddings } from '../../functions/domain/learning/index.js';
import { MODEL_LAYOUT } from '../../functions/domain/models.js';
import { createProject } from '../../functions/domain/projects.js';
import { retrainProject, type ProjectTrainingState } from '../../functions/domain/retrain.js';
import { rankingRetrainPorts } from '../../functions/adapters/ranking-codec.js';
import { appendEmbeddings } from '../../functions/adapters/embeddings/shards.js';
import { ManualClock, sampleFixture } from '../support/fixtures.js';

const DIM = 16;
const CLASSES = ['cat', 'dog', 'fox'];
const EMBEDDER = 'synthetic';

/** 60 samples in three separable clusters, 4 labels per class given over three retrains. */
async function trainedProject(projectId: string) {
  const stores = createMemoryStores(new ManualClock());
  await createProject(stores, { id: projectId, name: `Project ${projectId}`, classes: CLASSES }, 'olga');
  const samples = Array.from({ length: 60 }, (_, i) => sampleFixture(projectId, i));
  await stores.samples.putSamplesIfAbsent(samples);
  const vector = (i: number) => Float32Array.from({ length: DIM }, (_, d) => (d === i % 3 ? 1 : 0) + 0.3 * Math.sin(i * 7.1 + d * 1.3));
  await appendEmbeddings(stores.blobs, projectId, EMBEDDER, samples.map((s, i) => ({ sampleId: s.sampleId, vector: vector(i) })));
  const project = (await stores.projects.get(projectId))!;
  const state: ProjectTrainingState = {};
  for (let round = 0; round < 3; round++) {
    const batch = [0, 1, 2, 3].map((k) => 3 * (4 * round + k) + (k % 3));
    for (const i of batch) {
      await annotate(stores, { projectId, sampleId: samples[i].sampleId, labelerId: 'olga', version: 0, requestId: `r-${i}-xxxxx`, classIndex: i % 3 });
    }
    await retrainProject(stores, rankingRetrainPorts, project, state, { embedder: EMBEDDER, changed: batch.map((i) => samples[i].sampleId) });
  }
  return { stores, state, samples };
}

describe("the trainer's saved classifier", () => {
  it("is saved by every retrain under its ranking's generation and gives that ranking's probabilities", async () => {
    const { stores, state, samples } = await trainedProject('p');
    const ranking = (await stores.rankings.get('p'))!;
    expect(ranking.generation).toBe(3);
    const loaded = await loadLiveClassifier(stores.blobs, 'p');
    if (!loaded.found) throw new Error(loaded.reason);
    const live = loaded.classifier;
    expect(live).toMatchObject({ projectId: 'p', generation: 3, embedder: EMBEDDER, labels: ranking.labels, samples: samples.length });
    expect(live.model.fit.warmStarted).toBe(true);
    // Bit for bit the trainer's in-memory model.
    expect(Array.from(live.model.weights)).toEqual(Array.from(state.model!.weights));
    expect(Array.from(live.model.bias)).toEqual(Array.from(state.model!.bias));
    expect(live.model.temperature).toBe(state.model!.temperature);
    // It scores the ranked samples as the stored ranking does (fp16 there).
    const e = state.embeddings as F32Embeddings;
    const probs = scoreAll(live.model, { kind: 'f32', rows: e.rows, dim: DIM, data: normalizeRows(e.data.slice(), DIM) });
    const rowOf = state.rowOf!;
    ranking.sampleIds.forEach((id, k) => {
      for (let c = 0; c < CLASSES.length; c++) expect(Math.abs(probs[rowOf.get(id)! * 3 + c] - ranking.probs![k * 3 + c])).toBeLessThan(5e-4);
    });
  });

  it('reports a damaged object with the reason instead of throwing', async () => {
    const { stores } = await trainedProject('p');
    await stores.blobs.put(classifierKey('p'), new TextEncoder().encode('{"format":"winnow-live-classifier/1","model":{"classes":3,"dim":16,"present":[1,1,1],"weights":"AAAA","bias":"AAAA"}}'), 'application/json');
    const loaded = await loadLiveClassifier(stores.blobs, 'p');
    expect(loaded).toEqual({ found: false, reason: 'the saved model is unreadable (weights has 0.75 values, expected 48)' });
  });

  it("is deleted with its project, as is the project's re-embed job record; another project's are kept", async () => {
    const { stores } = await trainedProject('doomed');
    await createProject(stores, { id: 'kept', classes: CLASSES }, 'olga');
    const keptKey = classifierKey('kept');
    await stores.blobs.put(keptKey, new TextEncoder().encode('{}'), 'application/json');
    await stores.blobs.put(MODEL_LAYOUT.reembedJob('doomed'), new TextEncoder().encode('{"status":"done"}'), 'application/json');
    await stores.blobs.put(MODEL_LAYOUT.reembedJob('kept'), new TextEncoder().encode('{"status":"done"}'), 'application/json');
    expect(await stores.blobs.head(classifierKey('doomed'))).toBeDefined();

    const job = await startProjectDeletion(stores, 'doomed', 'Project doomed', 'olga');
    expect((await runDeletion(stores, 'doomed', job.jobId)).status).toBe('done');
    expect(await stores.blobs.head(classifierKey('doomed'))).toBeUndefined();
    expect(await stores.blobs.head(MODEL_LAYOUT.reembedJob('doomed'))).toBeUndefined();
    expect(await stores.blobs.head(keptKey)).toBeDefined();
    expect(await stores.blobs.head(MODEL_LAYOUT.reembedJob('kept'))).toBeDefined();
  });
});
