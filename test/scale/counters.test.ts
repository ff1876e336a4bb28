// The project counts progress, quality and agreement answer from (kept by the sample store as it writes, not read
// from every sample) stay equal to a full read of the project (agreement: to a replay of every sample's history):
// after labelers racing, undo, re-labels, image deletion and ingest status changes, and after a writer died between
// its write and its count (then the counts say so and a recount repairs them). Run against the in-memory fake and
// against the DynamoDB adapters on dynalite.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoSampleStore } from '../../functions/adapters/aws/samples.js';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { COUNTER_SK, LOCAL_COUNT_BEHIND, STALE_MS } from '../../functions/adapters/aws/project-counter.js';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { labelsInEffect, projectAgreement } from '../../functions/domain/agreement.js';
import { annotate } from '../../functions/domain/annotate.js';
import { runDeletion, startImageDeletion } from '../../functions/domain/deletion.js';
import { topClass } from '../../functions/domain/label-validation.js';
import type { Annotation, ImageRecord, ImageStatus } from '../../functions/domain/model.js';
import type { Clock, Stores } from '../../functions/domain/ports.js';
import { allSamples, projectProgress } from '../../functions/domain/progress.js';
import { repairCounts, repairCountsOf, unfinishedCounts } from '../../functions/domain/progress-tally.js';
import { createProject, getProject } from '../../functions/domain/projects.js';
import { nextSamples } from '../../functions/domain/serving/next-samples.js';
import { undoLast } from '../../functions/domain/undo.js';
import { startDynalite } from '../../functions/local/emulators.js';
import { startAwsTarget, type AwsTarget } from '../contract/aws-target.js';
import { ShiftedClock } from '../contract/fixtures.js';
import { sampleFixture } from '../support/fixtures.js';

const CLASSES = ['daisy', 'rose', 'tulip'];
let seq = 0;
const rid = () => `r${++seq}-${Math.random().toString(36).slice(2, 8)}`;
const projectName = (what: string) => `${what}-${Date.now().toString(36)}-${++seq}`;

/** What progress should say, from a full read of every sample and image record. */
async function fullScan(stores: Stores, projectId: string, overlap: number) {
  const byClass = CLASSES.map(() => 0);
  let total = 0;
  let labeled = 0;
  let ambiguous = 0;
  for await (const s of allSamples(stores, projectId)) {
    total++;
    if (s.labeledBy.length >= overlap) labeled++;
    if (s.label?.ambiguous) ambiguous++;
    const c = s.label ? topClass(s.label.confidences) : -1;
    if (c >= 0) byClass[c]++;
  }
  const images = { pending: 0, ready: 0, failed: 0 };
  let cursor: string | undefined;
  do {
    const page = await stores.samples.listImages(projectId, { cursor, limit: 1000 });
    for (const i of page.items) images[i.status]++;
    cursor = page.cursor;
  } while (cursor);
  return { total, labeled, remaining: total - labeled, ambiguous, byClass, images };
}

/** Agreement as a replay of every sample's history gives it (what the kept counts must equal). */
async function agreementFromLog(stores: Stores, projectId: string) {
  const bySample = new Map<string, Annotation[]>();
  let cursor: string | undefined;
  do {
    const page = await stores.annotations.listForProject(projectId, { cursor, limit: 1000 });
    for (const a of page.items) bySample.set(a.sampleId, [...(bySample.get(a.sampleId) ?? []), a]);
    cursor = page.cursor;
  } while (cursor);
  const pairs = new Map<string, { a: string; b: string; shared: number; same: number }>();
  const { classes } = await getProject(stores, projectId);
  const byClass = classes.map(() => ({ samples: 0, unanimous: 0 }));
  let samples = 0;
  let unanimous = 0;
  for (const history of bySample.values()) {
    const labels = [...labelsInEffect(history)].map(([labeler, c]) => [labeler, topClass(c)] as const).sort();
    if (labels.length < 2) continue;
    samples++;
    const all = labels.every(([, c]) => c === labels[0][1]);
    if (all) unanimous++;
    for (const c of new Set(labels.map(([, k]) => k))) byClass[c].samples++;
    if (all) byClass[labels[0][1]].unanimous++;
    for (let i = 0; i < labels.length; i++) {
      for (let j = i + 1; j < labels.length; j++) {
        const key = `${labels[i][0]} ${labels[j][0]}`;
        const pair = pairs.get(key) ?? { a: labels[i][0], b: labels[j][0], shared: 0, same: 0 };
        pair.shared++;
        if (labels[i][1] === labels[j][1]) pair.same++;
        pairs.set(key, pair);
      }
    }
  }
  const byPair = (x: { a: string; b: string }, y: { a: string; b: string }) => (`${x.a} ${x.b}` < `${y.a} ${y.b}` ? -1 : 1);
  return {
    samples,
    unanimous: samples ? unanimous / samples : null,
    pairs: [...pairs.values()].map((p) => ({ a: p.a, b: p.b, shared: p.shared, agreement: p.same / p.shared, disagree: p.shared - p.same })).sort(byPair),
    classes: byClass.map((c, classIndex) => ({
      classIndex,
      class: classes[classIndex],
      samples: c.samples,
      agreement: c.samples ? c.unanimous / c.samples : null,
      disagree: c.samples - c.unanimous,
    })),
  };
}

async function agreementCounted(stores: Stores, projectId: string) {
  const a = await projectAgreement(stores, projectId);
  return { ...a, pairs: [...a.pairs].sort((x, y) => (`${x.a} ${x.b}` < `${y.a} ${y.b}` ? -1 : 1)) };
}

async function counted(stores: Stores, projectId: string) {
  const p = await projectProgress(stores, projectId, 'owner');
  return { total: p.total, labeled: p.labeled, remaining: p.remaining, ambiguous: p.ambiguous, byClass: p.byClass.map((c) => c.count), images: p.images };
}

/** A project of `n` images with one sample each, ingested as ingest does it: pending, then ready (every 7th failed). */
async function seed(stores: Stores, n: number, overlap: number): Promise<string> {
  const id = projectName('counts');
  await createProject(stores, { id, classes: CLASSES, overlap, auditRate: 0 }, 'owner');
  const at = '2026-11-22T09:00:00.000Z';
  const image = (i: number, status: ImageStatus): ImageRecord => ({ projectId: id, imageId: `i${i}`, key: `uploads/${id}/i${i}.jpg`, etag: 'e', bytes: 1, status, order: `${at}|${i}`, createdAt: at, updatedAt: at });
  await Promise.all(
    Array.from({ length: n }, async (_, k) => {
      const i = k + 1;
      await stores.samples.putImageIfAbsent(image(i, 'pending'));
      if (i % 7 === 0) return stores.samples.putImage(image(i, 'failed'));
      await stores.samples.putSamplesIfAbsent([sampleFixture(id, i, { sampleId: `i${i}` })]); // a whole-image sample is named as its image
      await stores.samples.putImage(image(i, 'ready'));
    }),
  );
  return id;
}

/** A labeler who labels what they are served until nothing is left; every 5th label ambiguous. */
async function labelAll(stores: Stores, projectId: string, labelerId: string, classOf: (n: number) => number): Promise<number> {
  let written = 0;
  for (;;) {
    const { samples } = await nextSamples(stores, { projectId, labelerId, count: 2, leaseMs: 60_000 });
    if (samples.length === 0) return written;
    for (const s of samples) {
      const n = Number(s.sampleId.slice(1));
      await annotate(stores, { projectId, sampleId: s.sampleId, version: s.version, labelerId, classIndex: classOf(n), ambiguous: n % 5 === 0, requestId: rid() });
      written++;
    }
  }
}

function suite(name: string, start: () => Promise<{ stores: Stores; clock: Clock; close: () => Promise<void> }>) {
  describe(name, () => {
    let stores: Stores;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ stores, close } = await start());
    }, 60_000);
    afterAll(async () => close?.());

    it('counts ingest as it goes: samples, and images pending, ready and failed', async () => {
      const id = await seed(stores, 21, 1);
      expect(await counted(stores, id)).toEqual(await fullScan(stores, id, 1));
      expect((await counted(stores, id)).images).toEqual({ pending: 0, ready: 18, failed: 3 });
    });

    it('stays exact while four labelers race for the same samples with overlap 2, then through undo and re-labels', async () => {
      const id = await seed(stores, 24, 2);
      const written = await Promise.all(['ann', 'bob', 'cid', 'dee'].map((l, k) => labelAll(stores, id, l, (n) => (n + k) % 3)));
      // Every sample got its two labels, spread over the four.
      expect(written.reduce((a, b) => a + b, 0)).toBe(2 * 21);
      expect(await counted(stores, id)).toEqual(await fullScan(stores, id, 2));
      const agreed = await agreementCounted(stores, id);
      expect(agreed.samples).toBe(21 - 4); // every 5th sample's labels are ambiguous: no class to agree on
      expect(agreed).toEqual(await agreementFromLog(stores, id));

      // Undo takes a label back: the sample needs a label again, and its class may change back.
      // (A labeler whose last label was followed by another's on the same sample may not undo it: the race decides
      // who that is, so two labelers that can undo are taken.)
      let undone = 0;
      for (const labelerId of ['ann', 'bob', 'cid', 'dee']) {
        if (undone === 2) break;
        const refused = await undoLast(stores, { projectId: id, labelerId, requestId: rid() }).then(
          () => false,
          (err: Error) => (/labeled again after your label/.test(err.message) ? true : Promise.reject(err)),
        );
        if (!refused) undone++;
      }
      expect(undone).toBe(2);
      const afterUndo = await counted(stores, id);
      expect(afterUndo.labeled).toBe(19);
      expect(afterUndo).toEqual(await fullScan(stores, id, 2));
      expect(await agreementCounted(stores, id)).toEqual(await agreementFromLog(stores, id));

      // Re-labels: the same labeler changes their mind on a labeled sample (counted once, class moves).
      for await (const s of allSamples(stores, id)) {
        if (s.labeledBy.length === 0 || Number(s.sampleId.slice(1)) % 3 !== 0) continue;
        const labeler = s.label!.labelerId;
        await annotate(stores, { projectId: id, sampleId: s.sampleId, version: s.version, labelerId: labeler, classIndex: (topClass(s.label!.confidences) + 1) % 3, ambiguous: Number(s.sampleId.slice(1)) % 2 === 0, requestId: rid() });
      }
      expect(await counted(stores, id)).toEqual(await fullScan(stores, id, 2));
      expect(await agreementCounted(stores, id)).toEqual(await agreementFromLog(stores, id));
    });

    it('stays exact when images are deleted with their labeled samples', async () => {
      const id = await seed(stores, 14, 1);
      await Promise.all(['ann', 'bob'].map((l) => labelAll(stores, id, l, (n) => n % 3)));
      const job = await startImageDeletion(stores, id, { imageIds: ['i1', 'i2', 'i7'] }, 'owner');
      await runDeletion(stores, id, job.jobId);
      const after = await counted(stores, id);
      expect(after.total).toBe(10);
      expect(after).toEqual(await fullScan(stores, id, 1));
      expect(await agreementCounted(stores, id)).toEqual(await agreementFromLog(stores, id));
    });
  });
}

suite('project counts on the in-memory stores', async () => {
  const clock = new ShiftedClock();
  return { stores: createMemoryStores(clock), clock, close: async () => undefined };
});

suite('project counts on DynamoDB (dynalite)', async () => {
  const target = await startAwsTarget(() => startDynalite());
  return { stores: target.stores, clock: target.clock, close: target.close };
});

// The local stack's setting: labels answered once written, their counts applied just after (project-counter.ts).
// Progress read by the same process right after a label must still include it.
suite('project counts on DynamoDB (dynalite), applied behind the answer as the local stack does', async () => {
  const target = await startAwsTarget(() => startDynalite());
  (target.stores.samples as DynamoSampleStore).countBehind(LOCAL_COUNT_BEHIND);
  return { stores: target.stores, clock: target.clock, close: target.close };
});

for (const behind of [false, true]) describe(`a writer that dies between its write and its count (dynalite${behind ? ', counts applied behind' : ''})`, () => {
  let target: AwsTarget;
  beforeAll(async () => {
    target = await startAwsTarget(() => startDynalite());
    if (behind) (target.stores.samples as DynamoSampleStore).countBehind(LOCAL_COUNT_BEHIND);
  }, 60_000);
  afterAll(async () => target?.close());

  /**
   * The same stores, but whose sample store's client is cut off after each write's own request, before its count:
   * what a process killed at that moment leaves behind.
   */
  function dyingAfterWrites(stores: AwsTarget['stores']): Stores {
    const doc = stores.clients.doc;
    const cut = {
      send: (command: { input: { UpdateExpression?: string } }) => {
        if (command.input.UpdateExpression?.startsWith('ADD ')) return Promise.reject(new Error('process killed'));
        return doc.send(command as never);
      },
    } as unknown as typeof doc;
    const samples = new DynamoSampleStore(cut, 'winnow-samples', stores.clock);
    if (behind) samples.countBehind(LOCAL_COUNT_BEHIND);
    return { ...stores, samples };
  }

  it('is found once its mark is stale, and a recount makes progress equal a full read again', async () => {
    const { stores } = target;
    const clock = target.clock as ShiftedClock;
    const id = await seed(stores, 10, 1);
    await labelAll(stores, id, 'ann', (n) => n % 3);
    const { samples } = await nextSamples(stores, { projectId: id, labelerId: 'bob', count: 1, leaseMs: 60_000 });
    expect(samples).toEqual([]); // all labeled; bob re-labels one through a process that dies mid-count
    const s = (await stores.samples.getSample(id, 'i1'))!;
    const dying = dyingAfterWrites(stores);
    await annotate(dying, { projectId: id, sampleId: 'i1', version: s.version, labelerId: 'ann', classIndex: (topClass(s.label!.confidences) + 1) % 3, ambiguous: true, requestId: rid() });
    // The label landed; its count did not.
    const truth = await fullScan(stores, id, 1);
    expect(await counted(stores, id)).not.toEqual(truth);
    expect((await projectProgress(stores, id, 'owner')).repairing).toBeUndefined(); // a live writer may still count

    clock.offsetMs += STALE_MS + 1;
    expect((await projectProgress(stores, id, 'owner')).repairing).toBe(true);
    await repairCounts(stores, id);
    const repaired = await projectProgress(stores, id, 'owner');
    expect(repaired.repairing).toBeUndefined();
    expect(await counted(stores, id)).toEqual(truth);
    expect(await agreementCounted(stores, id)).toEqual(await agreementFromLog(stores, id));
  });

  it('in a restarted sole writer (the local stack), a dead writer\'s mark is found at once and rebuilt before serving', async () => {
    const { stores } = target;
    const id = await seed(stores, 10, 1);
    await labelAll(stores, id, 'ann', (n) => n % 3);
    const s = (await stores.samples.getSample(id, 'i2'))!;
    await annotate(dyingAfterWrites(stores), { projectId: id, sampleId: 'i2', version: s.version, labelerId: 'ann', classIndex: (topClass(s.label!.confidences) + 1) % 3, requestId: rid() });
    const truth = await fullScan(stores, id, 1);
    expect(await counted(stores, id)).not.toEqual(truth);
    // The restarted process: every mark set before it started is a dead writer's, with no minute to wait.
    const restarted = new DynamoSampleStore(stores.clients.doc, 'winnow-samples', stores.clock);
    restarted.writersDeadBefore(stores.clock.now());
    const after: Stores = { ...stores, samples: restarted };
    expect(await unfinishedCounts(after)).toContainEqual({ projectId: id, samples: (await fullScan(stores, id, 1)).total });
    const logged: string[] = [];
    await repairCountsOf(after, [id], (line) => logged.push(line));
    expect(logged).toEqual([`counts: rebuilt for ${id} (left unfinished by the last stop)`]);
    expect(await counted(after, id)).toEqual(truth);
    expect((await projectProgress(after, id, 'owner')).repairing).toBeUndefined();
  });

  it('rebuilds counts kept before the per-class agreement counts existed, once agreement is asked for', async () => {
    const { stores } = target;
    const id = await seed(stores, 12, 2);
    await labelAll(stores, id, 'ann', (n) => n % 3);
    await labelAll(stores, id, 'bob', (n) => (n % 4 === 0 ? (n + 1) % 3 : n % 3));
    const truth = await agreementFromLog(stores, id);
    expect(truth.samples).toBeGreaterThan(5);
    await stores.samples.counts(id); // every label's count applied (behind the answers, they may still be on their way)
    // The counter item as an older version kept it: no per-class agreement counters (ga<k>, gu<k>).
    const item = (await stores.clients.doc.send(new GetCommand({ TableName: 'winnow-samples', Key: { projectId: id, sk: COUNTER_SK } }))).Item!;
    const perClass = Object.keys(item).filter((k) => /^g[au]\d+$/.test(k));
    expect(perClass.length).toBeGreaterThan(0);
    await stores.clients.doc.send(new UpdateCommand({
      TableName: 'winnow-samples',
      Key: { projectId: id, sk: COUNTER_SK },
      UpdateExpression: `REMOVE ${perClass.map((_, i) => `#k${i}`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(perClass.map((k, i) => [`#k${i}`, k])),
    }));
    const before = await projectAgreement(stores, id);
    expect(before.repairing).toBe(true);
    expect(before.classes.every((c) => c.samples === 0)).toBe(true);
    await repairCounts(stores, id);
    expect(await agreementCounted(stores, id)).toEqual(truth);
  });

  it('recounts exactly while labelers keep labeling', async () => {
    const { stores } = target;
    const clock = target.clock as ShiftedClock;
    const id = await seed(stores, 40, 1);
    // A dead writer's mark, from an ingest write this time.
    await dyingAfterWrites(stores).samples.putSamplesIfAbsent([sampleFixture(id, 100, { sampleId: 'i100' })]).catch(() => undefined);
    clock.offsetMs += STALE_MS + 1;
    expect((await projectProgress(stores, id, 'owner')).repairing).toBe(true);
    const [repaired] = await Promise.all([
      repairCounts(stores, id),
      ...['ann', 'bob', 'cid'].map((l, k) => labelAll(stores, id, l, (n) => (n + k) % 3)),
    ]);
    expect(repaired.samples).toBeGreaterThan(0);
    const final = await projectProgress(stores, id, 'owner');
    expect(final.repairing).toBeUndefined();
    expect(await counted(stores, id)).toEqual(await fullScan(stores, id, 1));
  });
});
