// The quality view (GET /quality: the audit stream's accuracy estimate and the error on the samples served) answers
// from sums kept with the project's counts and the newest served labels, never by reading every label: the answer
// must equal a full read of every label record (projectQualityByScan, the computation the route used to make) after
// any history of serving and labeling (audit draws among them), re-labels, undo, image deletion, a labeler's deletion,
// labels landing out of time order or at the same millisecond, and after a writer died before its count (then a
// recount repairs it). Random histories (fast-check) on the in-memory stores and on the DynamoDB adapters (dynalite).

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createApp } from '../../functions/api/app.js';
import { localAuthenticate } from '../../functions/api/auth-local.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import { COUNTER_SK, QUALITY_KEPT, STALE_MS } from '../../functions/adapters/aws/project-counter.js';
import { DynamoSampleStore } from '../../functions/adapters/aws/samples.js';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { annotate } from '../../functions/domain/annotate.js';
import { runDeletion, startImageDeletion, startLabelerDeletion } from '../../functions/domain/deletion.js';
import { WinnowError } from '../../functions/domain/errors.js';
import { estimateAccuracy } from '../../functions/domain/learning/audit.js';
import { liveErrorSeries, type LiveErrorPoint } from '../../functions/domain/learning/live-error.js';
import { topClass } from '../../functions/domain/label-validation.js';
import type { Annotation, ImageRecord, RankedQueue } from '../../functions/domain/model.js';
import type { Clock, Stores } from '../../functions/domain/ports.js';
import { repairCounts } from '../../functions/domain/progress-tally.js';
import { createProject } from '../../functions/domain/projects.js';
import { MAX_POINTS, projectQuality, projectQualityByScan } from '../../functions/domain/quality.js';
import { nextSamples } from '../../functions/domain/serving/next-samples.js';
import { undoLast } from '../../functions/domain/undo.js';
import { startDynalite } from '../../functions/local/emulators.js';
import { startAwsTarget, type AwsTarget } from '../contract/aws-target.js';
import { ShiftedClock } from '../contract/fixtures.js';
import { sampleFixture } from '../support/fixtures.js';

const CLASSES = ['daisy', 'rose', 'tulip'];
const LABELERS = ['ann', 'bob', 'cid'];
let seq = 0;
const rid = () => `q${++seq}-${Math.random().toString(36).slice(2, 8)}`;

/** A project of `n` images with one sample each (named as the image), and a ranking over all of them. */
async function seed(stores: Stores, n: number, opts: { overlap: number; auditRate: number; probs: number[] }): Promise<string> {
  const id = `quality-${Date.now().toString(36)}-${++seq}`;
  const created = await createProject(stores, { id, classes: CLASSES, overlap: opts.overlap, auditRate: opts.auditRate }, 'owner');
  // The same audit set every run (the plain hash of these fixed sample ids, as projects made before the salt have):
  // with a random salt, some draws of the set leave the 12-sample ranking without a free ranked sample, so labels
  // go out from the upload-order fallback without the model's view, and the sequences below score fewer of them.
  const { auditSalt: _salt, ...unsalted } = created;
  await stores.projects.update(unsalted, created.version);
  const at = '2026-11-22T09:00:00.000Z';
  for (let i = 1; i <= n; i++) {
    const image: ImageRecord = { projectId: id, imageId: `i${i}`, key: `uploads/${id}/i${i}.jpg`, etag: 'e', bytes: 1, status: 'ready', order: `${at}|${i}`, createdAt: at, updatedAt: at };
    await stores.samples.putImageIfAbsent(image);
    await stores.samples.putSamplesIfAbsent([sampleFixture(id, i, { sampleId: `i${i}`, imageId: `i${i}` })]);
  }
  const probs = new Float32Array(n * 3);
  for (let r = 0; r < n; r++) {
    const raw = [0, 1, 2].map((c) => opts.probs[(r * 3 + c) % opts.probs.length] + 0.01);
    const sum = raw[0] + raw[1] + raw[2];
    for (let c = 0; c < 3; c++) probs[r * 3 + c] = raw[c] / sum;
  }
  const ranking: RankedQueue = { projectId: id, generation: 1, createdAt: 'now', strategy: 'margin', coldStart: false, labels: 5, classes: 3, sampleIds: Array.from({ length: n }, (_, r) => `i${r + 1}`), probs };
  await stores.rankings.put(ranking);
  return id;
}

type Op =
  | { k: 'label'; who: number; cls: number; ambiguous: boolean; dt: number }
  | { k: 'relabel'; who: number; cls: number; dt: number }
  | { k: 'undo'; who: number; dt: number }
  | { k: 'deleteImage'; image: number }
  | { k: 'deleteLabeler'; who: number };

const who = fc.integer({ min: 0, max: LABELERS.length - 1 });
// Time steps: forward, none (labels at the same millisecond) and back (a process whose clock is behind).
const dt = fc.integer({ min: -3, max: 4 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ k: fc.constant('label' as const), who, cls: fc.integer({ min: 0, max: 2 }), ambiguous: fc.boolean(), dt }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('relabel' as const), who, cls: fc.integer({ min: 0, max: 2 }), dt }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('undo' as const), who, dt }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('deleteImage' as const), image: fc.integer({ min: 1, max: 10 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('deleteLabeler' as const), who }) },
);
const history = fc.record({
  overlap: fc.integer({ min: 1, max: 2 }),
  auditRate: fc.constantFrom(0, 0.3, 0.6),
  probs: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 3, maxLength: 12 }),
  ops: fc.array(op, { minLength: 1, maxLength: 30 }),
});

/** Refusals a labeler may meet in a random history (someone labeled it since, nothing to undo...): not failures. */
const expected = (err: unknown) => {
  if (err instanceof WinnowError && ['conflict', 'stale_version', 'lease_conflict', 'not_found'].includes(err.code)) return;
  throw err;
};

async function play(stores: Stores, clock: { shift(ms: number): void }, projectId: string, ops: Op[]): Promise<void> {
  for (const o of ops) {
    if ('dt' in o) clock.shift(o.dt);
    const labelerId = 'who' in o ? LABELERS[o.who] : '';
    if (o.k === 'label') {
      const [s] = (await nextSamples(stores, { projectId, labelerId, count: 1, leaseMs: 60_000 })).samples;
      if (s) await annotate(stores, { projectId, sampleId: s.sampleId, version: s.version, labelerId, classIndex: o.cls, ambiguous: o.ambiguous, requestId: rid() }).catch(expected);
    } else if (o.k === 'relabel') {
      const last = (await stores.labelers.get(projectId, labelerId))?.recent.at(-1);
      const s = last && (await stores.samples.getSample(projectId, last.sampleId));
      if (s) await annotate(stores, { projectId, sampleId: s.sampleId, version: s.version, labelerId, classIndex: o.cls, requestId: rid() }).catch(expected);
    } else if (o.k === 'undo') {
      await undoLast(stores, { projectId, labelerId, requestId: rid() }).catch(expected);
    } else if (o.k === 'deleteImage') {
      if (!(await stores.samples.getImage(projectId, `i${o.image}`))) continue;
      const job = await startImageDeletion(stores, projectId, { imageIds: [`i${o.image}`] }, 'owner');
      await runDeletion(stores, projectId, job.jobId);
    } else {
      const job = await startLabelerDeletion(stores, projectId, labelerId, 'owner');
      await runDeletion(stores, projectId, job.jobId);
    }
  }
}

/** The route's answer before it kept sums (floating-point sums in label order): equal to the exact sums' up to rounding. */
async function previousAnswer(stores: Stores, projectId: string) {
  const labels: Annotation[] = [];
  let cursor: string | undefined;
  do {
    const page = await stores.annotations.listForProject(projectId, { cursor, limit: 1000 });
    labels.push(...page.items.filter((a) => a.kind === 'label' && a.live));
    cursor = page.cursor;
  } while (cursor);
  labels.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const series = liveErrorSeries(labels.filter((a) => !a.live!.audit).map((a) => a.live as LiveErrorPoint));
  const audits = labels
    .filter((a) => a.live!.audit && a.live!.predicted !== undefined && a.live!.confidence !== undefined)
    .map((a) => ({ predicted: a.live!.predicted!, confidence: a.live!.confidence!, labelClass: topClass(a.confidences) }));
  return { series, audit: estimateAccuracy(audits, CLASSES.length) };
}

/** The kept answer equals the full read's, exactly; and the figures the route gave before, to rounding. */
async function expectSameAnswer(stores: Stores, projectId: string) {
  const kept = await projectQuality(stores, projectId);
  const scanned = await projectQualityByScan(stores, projectId);
  expect(kept).toEqual(scanned);
  const before = await previousAnswer(stores, projectId);
  expect(kept.count).toBe(before.series.count);
  const close = (a: number | null, b: number) => (a === null ? expect(Number.isFinite(b)).toBe(false) : expect(Math.abs(a - b)).toBeLessThan(1e-9));
  close(kept.mse, before.series.mse);
  close(kept.errorRate, before.series.errorRate);
  close(kept.windowErrorRate, before.series.windowErrorRate);
  kept.points.forEach((p, k) => {
    const q = before.series.points[before.series.points.length - kept.points.length + k];
    expect(p.index).toBe(q.index);
    expect(p.squaredError).toBe(q.squaredError);
    close(p.runningMse, q.runningMse);
    expect(p.runningErrorRate).toBe(q.runningErrorRate);
    expect(p.windowErrorRate).toBe(q.windowErrorRate);
  });
  expect(kept.accuracy.n).toBe(before.audit.n);
  expect(kept.accuracy.correct).toBe(before.audit.correct);
  expect(kept.accuracy.perClass.map((c) => [c.n, c.correct])).toEqual(before.audit.perClass.map((c) => [c.n, c.correct]));
  return kept;
}

function suite(name: string, runs: number, start: () => Promise<{ stores: Stores; shift: (ms: number) => void; close: () => Promise<void> }>) {
  describe(name, () => {
    let stores: Stores;
    let shift: (ms: number) => void;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ stores, shift, close } = await start());
    }, 60_000);
    afterAll(async () => close?.());

    it('answers as a full read of every label would, after any history of labels, undo and deletions', async () => {
      let labeled = 0;
      await fc.assert(
        fc.asyncProperty(history, async (h) => {
          const id = await seed(stores, 10, h);
          await play(stores, { shift }, id, h.ops);
          const kept = await expectSameAnswer(stores, id);
          // The sums sit in the counts beside the rest: a rebuild from every record finds the same.
          const counts = await stores.samples.counts(id);
          expect(counts.quality).toEqual((await stores.samples.recount(id)).quality);
          expect(counts.quality?.qs_n ?? 0).toBe(kept.count);
          labeled += kept.count + kept.accuracy.n;
        }),
        // Seeded: the check below (histories did label) depends on the draws.
        { numRuns: runs, seed: 20261206 },
      );
      expect(labeled).toBeGreaterThan(runs); // the histories did label (with live points), audits among them
    }, 120_000);
  });
}

class SteppedClock implements Clock {
  t = Date.parse('2026-12-01T10:00:00.000Z');
  now() {
    return this.t;
  }
}

suite('quality from kept sums, in-memory stores', 60, async () => {
  const clock = new SteppedClock();
  return { stores: createMemoryStores(clock), shift: (ms) => (clock.t += ms), close: async () => undefined };
});

suite('quality from kept sums, DynamoDB (dynalite)', 12, async () => {
  const target = await startAwsTarget(() => startDynalite());
  const clock = target.clock as ShiftedClock;
  return { stores: target.stores, shift: (ms) => (clock.offsetMs += ms), close: target.close };
});

describe('quality reads a bounded number of labels', () => {
  it('answers a project of 2,600 served labels from the sums and its newest 2,049 labels, with the last 2,000 points charted', async () => {
    const clock = new SteppedClock();
    const stores = createMemoryStores(clock);
    const id = await seed(stores, 2600, { overlap: 1, auditRate: 0, probs: [0.2, 0.5, 0.3, 0.6, 0.1] });
    for (let i = 0; i < 2600; i++) {
      clock.t += 7;
      const [s] = (await nextSamples(stores, { projectId: id, labelerId: LABELERS[i % 3], count: 1, leaseMs: 60_000 })).samples;
      await annotate(stores, { projectId: id, sampleId: s.sampleId, version: s.version, labelerId: LABELERS[i % 3], classIndex: i % 3, requestId: rid() });
    }
    let read = 0;
    const annotations = stores.annotations;
    const counting: Stores = {
      ...stores,
      annotations: Object.assign(Object.create(annotations) as typeof annotations, {
        listForProject: async (...args: Parameters<typeof annotations.listForProject>) => {
          const page = await annotations.listForProject(...args);
          read += page.items.length;
          return page;
        },
        newestServed: async (projectId: string, limit: number) => {
          const out = await annotations.newestServed(projectId, limit);
          read += out.length;
          return out;
        },
      }),
    };
    const kept = await projectQuality(counting, id);
    expect(read).toBe(MAX_POINTS + 49);
    expect(kept.count).toBe(2600);
    expect(kept.points).toHaveLength(MAX_POINTS);
    expect(kept.points[0].index).toBe(600);
    expect(kept).toEqual(await projectQualityByScan(stores, id));
  }, 60_000);
});

describe('the sums stay on the server', () => {
  it('never show a labeler which of their labels were audit draws', async () => {
    const clock = new SteppedClock();
    const stores = createMemoryStores(clock);
    // Nine in ten served samples are audit draws from a set of about nine in ten: at 0.5 a run whose few audit-set
    // samples all went out as ordinary ones (a few in a hundred) had no audited label to look at.
    const id = await seed(stores, 12, { overlap: 1, auditRate: 0.9, probs: [0.7, 0.2, 0.1] });
    const app = createApp({ stores, featureVectors: shardFeatureVectors(stores.blobs, stores.clock), authenticate: localAuthenticate });
    const call = async (method: string, path: string, body?: unknown) =>
      app.request(`/api/projects/${id}${path}`, { method, headers: { 'x-winnow-user': 'ann', ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    // Label what is served until an audit draw was labeled.
    let audited: { sampleId: string; saved: Response } | undefined;
    for (let i = 0; i < 12 && !audited; i++) {
      clock.t += 1000;
      const served = (await (await call('GET', '/next?count=1')).json()) as { samples: { sample: { sampleId: string; version: number } }[] };
      const { sampleId, version } = served.samples[0].sample;
      const saved = await call('POST', `/samples/${sampleId}/annotations`, { version, classIndex: 0, requestId: rid() });
      expect(saved.status).toBe(201);
      if ((await stores.samples.getSample(id, sampleId))?.liveTally?.qa_n) audited = { sampleId, saved };
    }
    expect(audited).toBeDefined();
    const { sampleId, saved } = audited!;
    expect((await projectQuality(stores, id)).accuracy.n).toBeGreaterThan(0);
    for (const text of [await saved.text(), await (await call('GET', `/samples/${sampleId}`)).text(), await (await call('GET', '/history')).text()]) {
      expect(text).toContain(sampleId);
      expect(text).not.toMatch(/liveTally|qa_|qs_/);
    }
  });
});

describe('quality after a writer died before its count (dynalite)', () => {
  let target: AwsTarget;
  beforeAll(async () => {
    target = await startAwsTarget(() => startDynalite());
  }, 60_000);
  afterAll(async () => target?.close());

  it('is repaired by the recount; counts kept before the sums existed are answered by a full read', async () => {
    const { stores } = target;
    const clock = target.clock as ShiftedClock;
    const id = await seed(stores, 12, { overlap: 1, auditRate: 0.3, probs: [0.7, 0.2, 0.1, 0.3] });
    await play(stores, { shift: (ms) => (clock.offsetMs += ms) }, id, Array.from({ length: 8 }, (_, i) => ({ k: 'label' as const, who: i % 3, cls: i % 3, ambiguous: false, dt: 1 })));
    // A ninth label through a process killed after the head's write, before its count.
    const doc = stores.clients.doc;
    const cut = { send: (c: { input: { UpdateExpression?: string } }) => (c.input.UpdateExpression?.startsWith('ADD ') ? Promise.reject(new Error('process killed')) : doc.send(c as never)) } as unknown as typeof doc;
    const dying: Stores = { ...stores, samples: new DynamoSampleStore(cut, 'winnow-samples', stores.clock) };
    const [s] = (await nextSamples(stores, { projectId: id, labelerId: 'ann', count: 1, leaseMs: 60_000 })).samples;
    await annotate(dying, { projectId: id, sampleId: s.sampleId, version: s.version, labelerId: 'ann', classIndex: 1, requestId: rid() });
    const truth = await projectQualityByScan(stores, id);
    expect(truth.count + truth.accuracy.n).toBe(9);
    expect((await projectQuality(stores, id)).count + (await projectQuality(stores, id)).accuracy.n).toBe(8); // its count is missing
    clock.offsetMs += STALE_MS + 1;
    expect((await stores.samples.counts(id)).repairNeeded).toBe(true);
    await repairCounts(stores, id);
    expect(await projectQuality(stores, id)).toEqual(truth);

    // Counts kept by an older version (no flag): heads without their sums; the answer is the full read's.
    await doc.send(new UpdateCommand({ TableName: 'winnow-samples', Key: { projectId: id, sk: COUNTER_SK }, UpdateExpression: 'REMOVE #q', ExpressionAttributeNames: { '#q': QUALITY_KEPT } }));
    expect((await stores.samples.counts(id)).qualityKept).toBe(false);
    expect(await projectQuality(stores, id)).toEqual(truth);
    // ...and a recount does not claim the old heads' sums are complete.
    await repairCounts(stores, id);
    const item = (await doc.send(new GetCommand({ TableName: 'winnow-samples', Key: { projectId: id, sk: COUNTER_SK }, ConsistentRead: true }))).Item!;
    expect(item[QUALITY_KEPT]).toBeUndefined();
  }, 60_000);
});
