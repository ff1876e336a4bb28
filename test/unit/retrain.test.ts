// One retrain of one project (functions/domain/retrain.ts) on the in-memory stores: embeddings written as ingest
// writes them, labels written as labelers write them, and the ranked queue that serving reads.

import { describe, expect, it } from 'vitest';
import { annotate } from '../../functions/domain/annotate.js';
import type { Stores } from '../../functions/domain/ports.js';
import { editProject, getProject } from '../../functions/domain/projects.js';
import { loadLiveClassifier } from '../../functions/domain/classifier-store.js';
import { inAuditSet } from '../../functions/domain/learning/audit.js';
import { rankedProbs } from '../../functions/domain/serving/lease-walk.js';
import { nextSamples } from '../../functions/domain/serving/next-samples.js';
import { retrainProject, type ProjectTrainingState } from '../../functions/domain/retrain.js';
import { rankingRetrainPorts } from '../../functions/adapters/ranking-codec.js';
import { appendEmbeddings } from '../../functions/adapters/embeddings/shards.js';
import { projectWithSamples, rid } from '../support/fixtures.js';

const EMBEDDER = 'test-embedder';
const N = 30;
const DIMS = 16;
/** s1, s3, ... look like daisies (class 0); s2, s4, ... like roses (class 1). */
const classOf = (n: number) => (n % 2 === 1 ? 0 : 1);

async function flowers(): Promise<Stores> {
  const { stores } = await projectWithSamples(N, { classes: ['daisy', 'rose'] });
  const rows = Array.from({ length: N }, (_, i) => ({
    sampleId: `s${i + 1}`,
    vector: Float32Array.from({ length: DIMS }, (_, d) => (d === classOf(i + 1) ? 1 : 0) + 0.2 * Math.sin((i + 1) * 7 + d)),
  }));
  // Two shards, as two ingest batches would write them.
  await appendEmbeddings(stores.blobs, 'flowers', EMBEDDER, rows.slice(0, 12));
  await appendEmbeddings(stores.blobs, 'flowers', EMBEDDER, rows.slice(12));
  return stores;
}

async function label(stores: Stores, n: number, classIndex = classOf(n)) {
  await annotate(stores, { projectId: 'flowers', sampleId: `s${n}`, version: 0, labelerId: 'ann', classIndex, requestId: rid() });
}

const retrain = async (stores: Stores, state: ProjectTrainingState, changed?: string[]) =>
  retrainProject(stores, rankingRetrainPorts, await getProject(stores, 'flowers'), state, { embedder: EMBEDDER, changed });

describe('retrainProject', () => {
  it('writes no ranking while the project has no embeddings', async () => {
    const { stores } = await projectWithSamples(3, { classes: ['daisy', 'rose'] });
    expect(await retrain(stores, {})).toBeUndefined();
    expect(await stores.rankings.get('flowers')).toBeUndefined();
  });

  it('ranks the unlabeled samples with a model learned from the labels', async () => {
    const stores = await flowers();
    const labeled = [1, 2, 3, 4, 5, 6, 7, 8];
    for (const n of labeled) await label(stores, n);

    const result = await retrain(stores, {});
    expect(result).toMatchObject({ generation: 1, coldStart: false, labels: 8, samples: N });
    const ranking = (await stores.rankings.get('flowers'))!;
    expect(ranking).toMatchObject({ generation: 1, model: EMBEDDER, classes: 2, labels: 8, coldStart: false });
    // Every unlabeled sample is ranked once; labeled ones are not served again.
    const unlabeled = Array.from({ length: N }, (_, i) => `s${i + 1}`).filter((id) => !labeled.includes(Number(id.slice(1))));
    expect([...ranking.sampleIds].sort()).toEqual(unlabeled.sort());
    // The model tells daisies from roses on samples it was not trained on.
    for (const id of unlabeled) {
      const probs = rankedProbs(ranking, id)!;
      expect(probs[classOf(Number(id.slice(1)))], id).toBeGreaterThan(0.5);
    }
  });

  it('flags a label the model finds implausible for review', async () => {
    const stores = await flowers();
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) await label(stores, n);
    await label(stores, 13, 1); // a daisy-like sample labeled rose
    await retrain(stores, {});
    const suspects = (await stores.rankings.get('flowers'))!.suspects ?? [];
    expect(suspects.find((s) => s.sampleId === 's13')).toMatchObject({ givenClass: 1, predictedClass: 0 });
    expect(suspects.map((s) => s.sampleId)).not.toContain('s1');
  });

  it('before two classes have labels, ranks for diversity (cold start)', async () => {
    const stores = await flowers();
    await label(stores, 1);
    const result = await retrain(stores, {});
    expect(result).toMatchObject({ generation: 1, coldStart: true, labels: 1 });
    expect((await stores.rankings.get('flowers'))!.sampleIds).not.toContain('s1');
  });

  it('a later run reads only the changed samples, and numbers its ranking after the stored one', async () => {
    const stores = await flowers();
    for (const n of [1, 2, 3, 4]) await label(stores, n);
    const state: ProjectTrainingState = {};
    await retrain(stores, state);

    await label(stores, 9);
    const second = await retrain(stores, state, ['s9']);
    expect(second).toMatchObject({ generation: 2, labels: 5 });
    expect((await stores.rankings.get('flowers'))!.sampleIds).not.toContain('s9');

    // Another trainer (a fresh state, as a new Lambda container) continues the numbering from storage.
    await label(stores, 10);
    expect(await retrain(stores, {})).toMatchObject({ generation: 3, labels: 6 });
  });

  it('corrects the temperature for the labels\' selection only when they were selected (not drawn at random)', async () => {
    const shiftOf = async (strategy?: string) => {
      const stores = await flowers();
      if (strategy) {
        const project = await getProject(stores, 'flowers');
        await editProject(stores, 'flowers', { version: project.version, strategy });
      }
      for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) await label(stores, n);
      await retrain(stores, {});
      const saved = await loadLiveClassifier(stores.blobs, 'flowers');
      if (!saved.found) throw new Error(saved.reason);
      return saved.classifier.model.fit.calibration;
    };
    expect((await shiftOf())?.shift).toBeDefined();
    const random = await shiftOf('random');
    expect(random).toBeDefined();
    expect(random!.shift).toBeUndefined();
  });

  it("stores the audit draws' labels as the fold models judge them, for the accuracy figure", async () => {
    const stores = await flowers();
    const project = await getProject(stores, 'flowers');
    await editProject(stores, 'flowers', { version: project.version, auditRate: 0.5 });
    const salt = (await getProject(stores, 'flowers')).auditSalt;
    const inSet = (n: number) => inAuditSet(`s${n}`, 0.5, salt);
    // An owner's labels in the gallery, audit-set samples among them: chosen, not drawn.
    const chosen = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    for (const n of chosen) await label(stores, n);
    await retrain(stores, {});
    expect(chosen.filter(inSet).length).toBeGreaterThan(0);
    expect((await stores.rankings.get('flowers'))!.heldOutAudits?.n ?? 0).toBe(0);

    // A labeler served by the app: about half of what is served are audit draws from the audit set.
    const drawn: number[] = [];
    for (let k = 0; k < 12; k++) {
      const [sample] = (await nextSamples(stores, { projectId: 'flowers', labelerId: 'bea', count: 1, leaseMs: 60_000 })).samples;
      const n = Number(sample.sampleId.slice(1));
      if (sample.lease?.audit) drawn.push(n);
      await annotate(stores, { projectId: 'flowers', sampleId: sample.sampleId, version: sample.version, labelerId: 'bea', classIndex: classOf(n), requestId: rid() });
    }
    expect(drawn.length).toBeGreaterThan(0);
    expect(drawn.every(inSet)).toBe(true);
    await retrain(stores, {});
    const held = (await stores.rankings.get('flowers'))!.heldOutAudits!;
    expect(held.n).toBe(drawn.length);
    expect(held.perClassN).toEqual([0, 1].map((c) => drawn.filter((n) => classOf(n) === c).length));
    // Daisies and roses this far apart: the fold models get the held-out audits right.
    expect(held.correct).toBe(drawn.length);

    // A higher audit rate makes a larger audit set, but what was served from the ranking stays what it was.
    const now = await getProject(stores, 'flowers');
    await editProject(stores, 'flowers', { version: now.version, auditRate: 0.9 });
    await retrain(stores, {});
    expect((await stores.rankings.get('flowers'))!.heldOutAudits!.n).toBe(drawn.length);
  });
});
