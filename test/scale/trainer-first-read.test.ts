// The trainer's first retrain after a start reads only the labeled samples (through the project's annotations), and
// ranks exactly as when it read every sample head: the same labels in the same order, so the same ranking. Labels,
// re-labels, undos back to unlabeled and a sample id whose UTF-16 order differs from the tables' byte order, on the
// in-memory fake and on the DynamoDB adapters over dynalite.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { appendEmbeddings } from '../../functions/adapters/embeddings/shards.js';
import { rankingRetrainPorts } from '../../functions/adapters/ranking-codec.js';
import { annotate } from '../../functions/domain/annotate.js';
import { labeledHeads } from '../../functions/domain/labeled-heads.js';
import type { LabelHead } from '../../functions/domain/model.js';
import type { Stores } from '../../functions/domain/ports.js';
import { allSamples } from '../../functions/domain/progress.js';
import { createProject, getProject } from '../../functions/domain/projects.js';
import { retrainProject } from '../../functions/domain/retrain.js';
import { undoLast } from '../../functions/domain/undo.js';
import { startDynalite } from '../../functions/local/emulators.js';
import { startAwsTarget, type AwsTarget } from '../contract/aws-target.js';
import { ShiftedClock } from '../contract/fixtures.js';
import { sampleFixture } from '../support/fixtures.js';

const EMBEDDER = 'test-embedder';
const CLASSES = ['daisy', 'rose', 'tulip'];
const N = 120;
const DIMS = 12;
let seq = 0;
const rid = () => `first-read-${++seq}-${Math.random().toString(36).slice(2, 8)}`;

/** Sample ids: mostly plain, one with a character above U+FFFF and one just below it (UTF-16 order != byte order). */
const idOf = (i: number) => (i === 7 ? 'img-\u{1F33C}' : i === 8 ? 'img-\uFF21' : `img-${i}`);

/** The labels as the trainer read them before: every sample head, in key order. */
async function everyHeadRead(stores: Stores, projectId: string): Promise<[string, LabelHead][]> {
  const out: [string, LabelHead][] = [];
  for await (const s of allSamples(stores, projectId)) if (s.label) out.push([s.sampleId, s.label]);
  return out;
}

async function seedProject(stores: Stores, projectId: string): Promise<void> {
  await createProject(stores, { id: projectId, classes: CLASSES, auditRate: 0 }, 'owner');
  await stores.samples.putSamplesIfAbsent(Array.from({ length: N }, (_, i) => ({ ...sampleFixture(projectId, i + 1), sampleId: idOf(i), imageId: idOf(i) })));
  const rows = Array.from({ length: N }, (_, i) => ({
    sampleId: idOf(i),
    vector: Float32Array.from({ length: DIMS }, (_, d) => (d === i % 3 ? 1 : 0) + 0.3 * Math.sin(i * 7 + d)),
  }));
  await appendEmbeddings(stores.blobs, projectId, EMBEDDER, rows);
  // 24 labelers' labels in a scrambled order, two re-labels, and undos: one back to unlabeled, one to the earlier label.
  const versions = new Map<string, number>();
  const label = async (i: number, classIndex: number, labelerId = `ann-${i % 3}`) => {
    const id = idOf(i);
    const out = await annotate(stores, { projectId, sampleId: id, version: versions.get(id) ?? 0, labelerId, classIndex, requestId: rid() });
    versions.set(id, out.sample.version);
  };
  for (const i of [97, 3, 7, 8, 50, 12, 64, 1, 88, 30, 41, 110, 9, 75, 22, 5, 18, 60, 33, 101, 14, 70, 2, 119]) await label(i, i % 3);
  await label(50, 0, 'ann-2');
  await label(3, 1, 'ann-0');
  const undone = await undoLast(stores, { projectId, labelerId: 'ann-0', requestId: rid() }); // img-3's re-label
  versions.set(undone.sample.sampleId, undone.sample.version);
  await label(119, 1, 'ann-1');
  const back = await undoLast(stores, { projectId, labelerId: 'ann-1', requestId: rid() }); // img-119: the second labeler's
  versions.set(back.sample.sampleId, back.sample.version);
  const gone = await undoLast(stores, { projectId, labelerId: 'ann-2', requestId: rid() }); // img-50's re-label
  versions.set(gone.sample.sampleId, gone.sample.version);
  await undoLast(stores, { projectId, labelerId: 'ann-2', requestId: rid(), sampleId: idOf(119) }); // img-119 unlabeled
}

function checks(name: string, open: () => Promise<{ stores: Stores; close: () => Promise<void> }>) {
  describe(name, () => {
    let stores: Stores;
    let close: (() => Promise<void>) | undefined;
    const projectId = `first-read-${name.replace(/\W+/g, '-')}`;
    beforeAll(async () => {
      ({ stores, close } = await open());
      await seedProject(stores, projectId);
    }, 60_000);
    afterAll(async () => close?.());

    it('finds every labeled sample through the annotations, with the heads and order a read of every head gives', async () => {
      const expected = await everyHeadRead(stores, projectId);
      expect(expected.map(([id]) => id)).not.toContain(idOf(119)); // undone to unlabeled
      expect(expected).toHaveLength(23);
      const read = await labeledHeads(stores, projectId);
      expect(read.via).toBe('annotations');
      expect([...read.labels]).toEqual(expected);
    });

    it('ranks exactly as a retrain that read every sample head', async () => {
      const project = await getProject(stores, projectId);
      const ports = rankingRetrainPorts;
      await retrainProject(stores, ports, project, {}, { embedder: EMBEDDER });
      const fromAnnotations = (await stores.rankings.get(projectId))!;
      // The labels as the earlier first read found them, and no change since: the retrain reads nothing more.
      await retrainProject(stores, ports, project, { labels: new Map(await everyHeadRead(stores, projectId)) }, { embedder: EMBEDDER, changed: [] });
      const fromEveryHead = (await stores.rankings.get(projectId))!;
      expect(fromEveryHead.generation).toBe(fromAnnotations.generation + 1);
      expect(fromAnnotations.labels).toBe(23);
      expect(fromAnnotations.sampleIds).toEqual(fromEveryHead.sampleIds);
      expect(fromAnnotations.probs).toEqual(fromEveryHead.probs);
      expect(fromAnnotations.suspects).toEqual(fromEveryHead.suspects);
    });

    it('reads every head instead when most samples are labeled', async () => {
      const other = `${projectId}-full`;
      await createProject(stores, { id: other, classes: CLASSES, auditRate: 0 }, 'owner');
      await stores.samples.putSamplesIfAbsent(Array.from({ length: 8 }, (_, i) => sampleFixture(other, i + 1)));
      for (let i = 1; i <= 5; i++) await annotate(stores, { projectId: other, sampleId: `s${i}`, version: 0, labelerId: 'ann', classIndex: i % 3, requestId: rid() });
      const read = await labeledHeads(stores, other);
      expect(read.via).toBe('every-head');
      expect([...read.labels]).toEqual(await everyHeadRead(stores, other));
    });
  });
}

checks('memory', async () => ({ stores: createMemoryStores(new ShiftedClock()), close: async () => undefined }));

let target: AwsTarget | undefined;
checks('dynalite', async () => {
  target = await startAwsTarget(() => startDynalite());
  return { stores: target.stores, close: () => target!.close() };
});
