// What the labeler is told about the model: suggestions from the project's model only (tagger tags apart), audit
// draws mixed into what is served (unseen, uniform, scored at lease time), and skipped samples back in the pool.

import { describe, expect, it } from 'vitest';
import { createApp } from '../../functions/api/app.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import { localAuthenticate } from '../../functions/api/auth-local.js';
import { publicSample } from '../../functions/api/present.js';
import { annotate } from '../../functions/domain/annotate.js';
import type { RankedQueue } from '../../functions/domain/model.js';
import { editProject } from '../../functions/domain/projects.js';
import { projectQuality } from '../../functions/domain/quality.js';
import { inAuditSet } from '../../functions/domain/learning/audit.js';
import { nextSamples } from '../../functions/domain/serving/next-samples.js';
import { projectWithSamples, rid, sampleFixture } from '../support/fixtures.js';

const LEASE = 60_000;

/** A ranking over samples s1..sN (all of them: the whole unlabeled pool), the model sure of class (i mod 3). */
function rankingOver(n: number, order = Array.from({ length: n }, (_, i) => i + 1)): RankedQueue {
  const probs = new Float32Array(n * 3);
  order.forEach((id, row) => {
    for (let c = 0; c < 3; c++) probs[row * 3 + c] = c === id % 3 ? 0.8 : 0.1;
  });
  return { projectId: 'flowers', generation: 3, createdAt: 'now', strategy: 'margin', coldStart: false, labels: 10, classes: 3, sampleIds: order.map((i) => `s${i}`), probs };
}

describe('suggestions come from the project model only', () => {
  it("lists the model's top classes with their probabilities and keeps tagger tags apart, unmapped", async () => {
    const { stores } = await projectWithSamples(0);
    // A record as ingest wrote it before tags had their own field: an ImageNet "daisy" tag mapped onto the class.
    await stores.samples.putSamplesIfAbsent([{ ...sampleFixture('flowers', 1), suggestions: [{ classIndex: 0, name: 'daisy', probability: 0.9 }] }]);
    const before = await nextSamples(stores, { projectId: 'flowers', labelerId: 'ann', count: 1, leaseMs: LEASE });
    expect(before.samples[0].suggestions).toBeUndefined(); // no model yet: no suggestion
    expect(before.samples[0].tags).toEqual([{ classIndex: -1, name: 'daisy', probability: 0.9 }]);

    const ranking = rankingOver(1);
    ranking.probs = Float32Array.from([0.2, 0.5, 0.3]);
    await stores.rankings.put(ranking);
    const after = await nextSamples(stores, { projectId: 'flowers', labelerId: 'bob', count: 1, leaseMs: LEASE });
    expect(after.samples).toHaveLength(0); // still ann's
    const mine = await nextSamples(stores, { projectId: 'flowers', labelerId: 'ann', count: 1, leaseMs: LEASE });
    expect(mine.samples[0].suggestions).toEqual([
      { classIndex: 1, name: 'rose', probability: 0.5 },
      { classIndex: 2, name: 'tulip', probability: 0.3 },
      { classIndex: 0, name: 'daisy', probability: 0.2 },
    ]);
    expect(mine.samples[0].tags?.every((t) => t.classIndex === -1)).toBe(true);
  });
});

describe('samples shown outside serving', () => {
  it("GET sample and history show the current model's suggestion (or none) and the tags apart", async () => {
    const { stores } = await projectWithSamples(0);
    await stores.samples.putSamplesIfAbsent([1, 2].map((n) => ({ ...sampleFixture('flowers', n), tags: [{ classIndex: -1, name: 'daisy', probability: 0.9 }] })));
    const app = createApp({ stores, featureVectors: shardFeatureVectors(stores.blobs, stores.clock), authenticate: localAuthenticate });
    const get = async (path: string) => (await (await app.request(path, { headers: { 'x-winnow-user': 'ann' } })).json()) as any;
    expect((await get('/api/projects/flowers/samples/s1')).sample.suggestions).toBeUndefined(); // no model yet
    const ranking = rankingOver(2);
    await stores.rankings.put(ranking);
    const shown = (await get('/api/projects/flowers/samples/s1')).sample;
    expect(shown.suggestions[0]).toMatchObject({ classIndex: 1, name: 'rose' });
    expect(shown.suggestions[0].probability).toBeCloseTo(0.8, 3);
    expect(shown.tags).toEqual([{ classIndex: -1, name: 'daisy', probability: 0.9 }]);
    // Served with the model's probabilities, then labeled: scored (live) on the server...
    const served = (await get('/api/projects/flowers/next?count=2')).samples.map((x: any) => x.sample.sampleId);
    expect(served).toContain('s2');
    const saved = await app.request('/api/projects/flowers/samples/s2/annotations', {
      method: 'POST',
      headers: { 'x-winnow-user': 'ann', 'content-type': 'application/json' },
      body: JSON.stringify({ version: 0, requestId: rid(), classIndex: 0 }),
    });
    expect(saved.status).toBe(201);
    expect((await stores.annotations.get('flowers', 's2', 0))?.live).toBeDefined();
    // ...but nothing a labeler reads says which labels were scored (or audited).
    expect(await saved.text()).not.toMatch(/"live"|audit/);
    expect(JSON.stringify(await get('/api/projects/flowers/samples/s2'))).not.toMatch(/"live"|audit/);
    // Labeled, s2 is no longer ranked: its history entry has no model suggestion, and still its tags apart.
    await stores.rankings.put({ ...ranking, generation: 4, sampleIds: ['s1'], probs: ranking.probs!.slice(0, 3) });
    const [item] = (await get('/api/projects/flowers/history')).items;
    expect(item.sample.sampleId).toBe('s2');
    expect(item.sample.suggestions).toBeUndefined();
    expect(item.sample.tags[0].classIndex).toBe(-1);
  });
});

describe('audit stream', () => {
  it('serves about 1 in 10 new samples as uniform random audit draws, scored against the model at lease time', async () => {
    const N = 600;
    const { stores } = await projectWithSamples(N);
    const project = await stores.projects.get('flowers');
    await editProject(stores, 'flowers', { version: project!.version, auditRate: 0.1 });
    await stores.rankings.put(rankingOver(N));
    let audits = 0;
    let servedRankPositions = 0;
    const drawnPositions: number[] = [];
    for (let i = 0; i < 300; i++) {
      const [sample] = (await nextSamples(stores, { projectId: 'flowers', labelerId: 'ann', count: 1, leaseMs: LEASE })).samples;
      const lease = (await stores.samples.getSample('flowers', sample.sampleId))!.lease!;
      const position = Number(sample.sampleId.slice(1));
      // Audit draws come from the audit set (a fixed uniform share of the collection), which ranked serving leaves alone.
      expect(inAuditSet(sample.sampleId, 0.1, project!.auditSalt), sample.sampleId).toBe(!!lease.audit);
      if (lease.audit) {
        audits++;
        drawnPositions.push(position);
      } else servedRankPositions++;
      // Nothing in what the labeler gets says which is which.
      expect(JSON.stringify(publicSample(sample))).not.toMatch(/audit/);
      const truth = position % 3 === 0 || position % 7 === 0 ? (position + 1) % 3 : position % 3; // the model is wrong on some
      await annotate(stores, { projectId: 'flowers', sampleId: sample.sampleId, version: 0, labelerId: 'ann', classIndex: truth, requestId: rid() });
    }
    expect(audits).toBeGreaterThan(15);
    expect(audits).toBeLessThan(50);
    // Ranked serving goes top-down; audit draws land anywhere in the ranking, far beyond the served front.
    expect(Math.max(...drawnPositions)).toBeGreaterThan(servedRankPositions + audits);
    const quality = await projectQuality(stores, 'flowers');
    expect(quality.accuracy.n).toBe(audits);
    expect(quality.accuracy.rate).toBe(0.1);
    expect(quality.count).toBe(300 - audits); // the served-sample error leaves the audits out
    expect(quality.accuracy.low!).toBeLessThanOrEqual(quality.accuracy.accuracy!);
    expect(quality.accuracy.high!).toBeGreaterThanOrEqual(quality.accuracy.accuracy!);
    expect(quality.accuracy.perClass.reduce((s, c) => s + c.n, 0)).toBe(audits);
    expect('estimatedAccuracy' in quality).toBe(false);
  });

  it('never hands out the same sample twice in one answer when an audit draw lands on a later ranked sample', async () => {
    // Seen through the CLI: an audit draw leased an audit-set sample, then the ranked walk reached it and, as the
    // labeler now held it, leased it again: one image twice in the same /next answer.
    for (let trial = 0; trial < 40; trial++) {
      const { stores } = await projectWithSamples(12);
      const project = await stores.projects.get('flowers');
      await editProject(stores, 'flowers', { version: project!.version, auditRate: 0.5 });
      await stores.rankings.put(rankingOver(12));
      const ids = (await nextSamples(stores, { projectId: 'flowers', labelerId: 'ann', count: 20, leaseMs: LEASE })).samples.map((s) => s.sampleId);
      expect(new Set(ids).size, ids.join(' ')).toBe(ids.length);
    }
  });

  it("draws each project's audit set with its own salt, which clients never see", async () => {
    const ids = Array.from({ length: 4000 }, (_, i) => `s${i}`);
    const a = await projectWithSamples(1);
    const b = await projectWithSamples(1);
    const saltA = (await a.stores.projects.get('flowers'))!.auditSalt!;
    const saltB = (await b.stores.projects.get('flowers'))!.auditSalt!;
    expect(saltA).toMatch(/^[0-9a-f]{16}$/);
    expect(saltB).not.toBe(saltA);
    // Same image names, two projects: two independent draws of about 1 in 10 each (overlap about 1 in 100).
    const setA = new Set(ids.filter((id) => inAuditSet(id, 0.1, saltA)));
    const setB = ids.filter((id) => inAuditSet(id, 0.1, saltB));
    expect(setA.size).toBeGreaterThan(320);
    expect(setA.size).toBeLessThan(480);
    expect(setB.filter((id) => setA.has(id)).length).toBeLessThan(80);
    // The API's project answers leave it out (it would tell a labeler which images are audits).
    const app = createApp({ stores: a.stores, featureVectors: shardFeatureVectors(a.stores.blobs, a.stores.clock), authenticate: localAuthenticate });
    for (const path of ['/api/projects', '/api/projects/flowers']) {
      const res = await app.request(path, { headers: { 'x-winnow-user': 'ann' } });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain('flowers');
      expect(text).not.toContain(saltA);
      expect(text).not.toMatch(/auditSalt/);
    }
  });

  it('refuses an audit rate outside 0..1 with the field named', async () => {
    const { stores } = await projectWithSamples(1);
    await expect(editProject(stores, 'flowers', { version: 1, auditRate: 1.5 })).rejects.toMatchObject({ code: 'bad_request', details: { field: 'auditRate' } });
  });
});

describe('skipping through the API', () => {
  async function api(samples: number) {
    const ctx = await projectWithSamples(samples);
    const app = createApp({ stores: ctx.stores, featureVectors: shardFeatureVectors(ctx.stores.blobs, ctx.stores.clock), authenticate: localAuthenticate });
    const call = async (method: string, path: string, user = 'ann') => {
      const res = await app.request(path, { method, headers: { 'x-winnow-user': user } });
      return { status: res.status, json: (await res.json()) as any };
    };
    return { ...ctx, call };
  }

  it('never leaves a labeler stuck: skipped samples go back to the pool, for others now and for them after the rest', async () => {
    const { call } = await api(30);
    const skipped: string[] = [];
    // Skip 25 samples one by one, as a labeler pressing S would (more than the 20 a /next answer can hold).
    for (let i = 0; i < 25; i++) {
      const next = await call('GET', '/api/projects/flowers/next?count=1');
      expect(next.status).toBe(200);
      const id = next.json.samples[0]?.sample.sampleId;
      expect(id, `request ${i + 1} got nothing`).toBeDefined();
      expect(skipped).not.toContain(id);
      const res = await call('POST', `/api/projects/flowers/samples/${id}/skip`);
      expect(res.status).toBe(200);
      skipped.push(id);
    }
    // Another labeler gets a skipped sample straight away (it is no longer leased).
    const bob = await call('GET', '/api/projects/flowers/next?count=20', 'bob');
    expect(bob.json.samples.map((s: any) => s.sample.sampleId)).toEqual(expect.arrayContaining(skipped.slice(0, 20)));
    // The skipper gets the 5 never-skipped samples first, then their own skipped ones (those bob does not hold).
    const ann = await call('GET', '/api/projects/flowers/next?count=10');
    const ids = ann.json.samples.map((s: any) => s.sample.sampleId);
    expect(ids).toHaveLength(10);
    expect(ids.slice(0, 5).every((id: string) => !skipped.includes(id))).toBe(true);
    expect(ids.slice(5).every((id: string) => skipped.includes(id))).toBe(true);
    expect(ann.json.done).toBe(false);
  });

  it('refuses to skip a sample someone else holds, with the reason', async () => {
    const { call } = await api(2);
    const next = await call('GET', '/api/projects/flowers/next?count=1', 'bob');
    const id = next.json.samples[0].sample.sampleId;
    const res = await call('POST', `/api/projects/flowers/samples/${id}/skip`);
    expect(res.status).toBe(409);
    expect(res.json.message).toContain('bob');
  });
});
