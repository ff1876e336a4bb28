// Serving one sample ahead (the local stack's single API process): the labeler's next sample is leased while they
// label the current one, handed out without a store round trip, and never to anyone else.

import { describe, expect, it } from 'vitest';
import { annotate } from '../../functions/domain/annotate.js';
import type { Stores } from '../../functions/domain/ports.js';
import { ServeAhead } from '../../functions/domain/serving/lease-ahead.js';
import { projectWithSamples, rid } from '../support/fixtures.js';

const LEASE = 60_000;

function setup(stores: Stores) {
  const ahead = new ServeAhead(stores);
  let leaseWrites = 0;
  const lease = stores.samples.lease.bind(stores.samples);
  stores.samples.lease = (...args) => {
    leaseWrites++;
    return lease(...args);
  };
  const next = async (labelerId: string, count = 1) => {
    const result = await ahead.next({ projectId: 'flowers', labelerId, count, leaseMs: LEASE });
    await ahead.idle();
    return result;
  };
  const label = async (labelerId: string, sampleId: string, version = 0) => {
    await annotate(stores, { projectId: 'flowers', sampleId, version, labelerId, classIndex: 0, requestId: rid() });
    ahead.labeled('flowers', [sampleId]);
  };
  return { ahead, next, label, writes: () => leaseWrites };
}

describe('serving one sample ahead', () => {
  it('leases the next sample while the labeler labels, and hands it out without a store write', async () => {
    const { stores } = await projectWithSamples(5);
    const { ahead, next, label, writes } = setup(stores);
    expect((await next('ann')).samples.map((s) => s.sampleId)).toEqual(['s1']);
    expect(ahead.held('flowers', 'ann')?.sampleId).toBe('s2');
    expect((await stores.samples.getSample('flowers', 's2'))?.lease?.labelerId).toBe('ann'); // leased in the store
    // Another labeler is never handed the sample held for ann.
    expect((await next('bob')).samples.map((s) => s.sampleId)).toEqual(['s3']);

    await label('ann', 's1');
    const before = writes();
    const pending = ahead.next({ projectId: 'flowers', labelerId: 'ann', count: 1, leaseMs: LEASE });
    const served = await pending;
    expect(served.samples.map((s) => s.sampleId)).toEqual(['s2']);
    expect(served.done).toBe(false);
    expect(served.model.state).toBe('untrained');
    await ahead.idle();
    expect(writes() - before).toBe(1); // the one made ahead for the request after (s5: s4 is bob's)
    expect(ahead.held('flowers', 'ann')?.sampleId).toBe('s5');
  });

  it('gives a labeler who asks again before labeling the same sample again (reload keeps your place)', async () => {
    const { stores } = await projectWithSamples(4);
    const { ahead, next, label } = setup(stores);
    await next('ann');
    expect((await next('ann')).samples.map((s) => s.sampleId)).toEqual(['s1']);
    expect(ahead.held('flowers', 'ann')?.sampleId).toBe('s2');
    await label('ann', 's1');
    expect((await next('ann')).samples.map((s) => s.sampleId)).toEqual(['s2']);
  });

  it('answers a reload from what it handed out, without a store write, while half the lease is left', async () => {
    const { stores, clock } = await projectWithSamples(4);
    const { ahead, next, writes } = setup(stores);
    const first = await next('ann');
    const before = writes();
    const again = await next('ann');
    expect(again.samples).toEqual(first.samples); // the same sample, as it was handed out
    expect(writes() - before).toBe(0);
    expect(ahead.held('flowers', 'ann')?.sampleId).toBe('s2');
    expect(ahead.counts.again).toBe(1);
    // Half its lease gone: served the usual way (its lease renewed by a write).
    clock.advance(LEASE / 2 + 1);
    const late = await next('ann');
    expect(late.samples.map((s) => s.sampleId)).toEqual(['s1']);
    expect(writes() - before).toBeGreaterThan(0);
  });

  it('returns the held sample among a prefetch of several, once, and says done at the end', async () => {
    const { stores } = await projectWithSamples(3);
    const { next, label } = setup(stores);
    await next('ann');
    const batch = (await next('ann', 5)).samples.map((s) => s.sampleId);
    expect(batch).toEqual(['s1', 's2', 's3']);
    for (const id of batch) await label('ann', id);
    expect(await next('ann')).toMatchObject({ samples: [], done: true });
  });

  it('drops a held sample that got labeled, or whose lease is half gone', async () => {
    const { stores, clock } = await projectWithSamples(4);
    const { ahead, next, label } = setup(stores);
    await next('ann');
    await label('ann', 's2'); // labeled elsewhere in the app (e.g. from the gallery) while held
    expect(ahead.held('flowers', 'ann')).toBeUndefined();
    await label('ann', 's1');
    expect((await next('ann')).samples.map((s) => s.sampleId)).toEqual(['s3']);

    await label('ann', 's3');
    clock.advance(LEASE / 2 + 1); // ann was away: the held s4 is not handed out on a half-spent lease
    const back = await next('ann');
    expect(back.samples.map((s) => s.sampleId)).toEqual(['s4']);
    expect(back.samples[0].lease!.until).toBeGreaterThanOrEqual(clock.now() + LEASE - 1); // leased afresh
  });

  it('does not hold samples for projects that want several labels per sample', async () => {
    const { stores } = await projectWithSamples(3, { overlap: 2 });
    const { ahead, next } = setup(stores);
    await next('ann');
    expect(ahead.held('flowers', 'ann')).toBeUndefined();
    expect((await stores.samples.getSample('flowers', 's2'))?.lease).toBeUndefined();
  });

  it('hands out a sample held since before the first model with that model\'s suggestion, and stores its probabilities', async () => {
    const { stores } = await projectWithSamples(4);
    const { ahead, next, label } = setup(stores);
    await next('ann');
    expect(ahead.held('flowers', 'ann')?.sampleId).toBe('s2');
    await label('ann', 's1');
    const probs = new Float32Array([0, 0, 0, /* s2 */ 0.5, 0.25, 0.25, /* s3 */ 0.2, 0.2, 0.6, /* s4 */ 0.3, 0.3, 0.4]);
    const ranked = { projectId: 'flowers', generation: 2, createdAt: 'x', strategy: 'margin', coldStart: false, labels: 1, classes: 3 };
    await stores.rankings.put({ ...ranked, sampleIds: ['s2', 's3', 's4'], probs: probs.slice(3) });
    const served = await next('ann');
    expect(served.model).toMatchObject({ state: 'trained', generation: 2 });
    expect(served.samples[0].sampleId).toBe('s2');
    expect(served.samples[0].suggestions?.[0]).toEqual({ classIndex: 0, name: 'daisy', probability: 0.5 }); // values exact in fp16
    expect((await stores.samples.getSample('flowers', 's2'))?.lease?.probs).toEqual([0.5, 0.25, 0.25]);
  });

  it('keeps a held sample\'s suggestion and lease probabilities from one and the same model', async () => {
    const { stores } = await projectWithSamples(4);
    const { ahead, next, label } = setup(stores);
    const ranked = { projectId: 'flowers', createdAt: 'x', strategy: 'margin', coldStart: false, labels: 1, classes: 3, sampleIds: ['s1', 's2', 's3', 's4'] };
    await stores.rankings.put({ ...ranked, generation: 2, probs: new Float32Array(12).fill(0.25).map((v, i) => (i % 3 === 1 ? 0.5 : v)) });
    await next('ann');
    expect(ahead.held('flowers', 'ann')?.suggestions?.[0]).toMatchObject({ classIndex: 1, probability: 0.5 });
    await stores.rankings.put({ ...ranked, generation: 3, probs: new Float32Array(12).fill(0.25).map((v, i) => (i % 3 === 2 ? 0.5 : v)) });
    await label('ann', 's1');
    const served = await next('ann');
    expect(served.model.generation).toBe(3);
    expect(served.samples[0].suggestions?.[0]).toMatchObject({ classIndex: 1, name: 'rose', probability: 0.5 });
    expect((await stores.samples.getSample('flowers', 's2'))?.lease?.probs).toEqual([0.25, 0.5, 0.25]);
  });
});
