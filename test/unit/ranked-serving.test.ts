import { describe, expect, it } from 'vitest';
import { annotate } from '../../functions/domain/annotate.js';
import { projectQuality } from '../../functions/domain/quality.js';
import { nextSamples } from '../../functions/domain/serving/next-samples.js';
import { projectWithSamples, rid } from '../support/fixtures.js';

const LEASE = 60_000;

async function ranked() {
  const ctx = await projectWithSamples(5);
  await ctx.stores.rankings.put({
    projectId: 'flowers', generation: 7, createdAt: 'now', strategy: 'margin', coldStart: false, labels: 12, classes: 3,
    sampleIds: ['s4', 's2'],
    probs: Float32Array.from([0.1, 0.7, 0.2, 0.5, 0.3, 0.2]),
  });
  return ctx;
}

describe('serving from the ranked queue', () => {
  it('serves the ranking first, then falls back to upload order, and says the model is trained', async () => {
    const { stores } = await ranked();
    const res = await nextSamples(stores, { projectId: 'flowers', labelerId: 'ann', count: 4, leaseMs: LEASE });
    expect(res.samples.map((s) => s.sampleId)).toEqual(['s4', 's2', 's1', 's3']);
    expect(res.model).toMatchObject({ state: 'trained', generation: 7, labels: 12 });
  });

  it("puts the model's best class first as the suggestion, with its probability", async () => {
    const { stores } = await ranked();
    const [first] = (await nextSamples(stores, { projectId: 'flowers', labelerId: 'ann', count: 1, leaseMs: LEASE })).samples;
    expect(first.suggestions?.[0]).toMatchObject({ classIndex: 1, name: 'rose' });
    expect(first.suggestions?.[0].probability).toBeCloseTo(0.7, 3);
  });

  it('records the live error of the shown probabilities when the label arrives', async () => {
    const { stores, clock } = await ranked();
    const [s4, s2] = (await nextSamples(stores, { projectId: 'flowers', labelerId: 'ann', count: 2, leaseMs: LEASE })).samples;
    const right = await annotate(stores, { projectId: 'flowers', sampleId: s4.sampleId, version: 0, labelerId: 'ann', classIndex: 1, requestId: rid() });
    expect(right.annotation.live?.correct).toBe(true);
    // (0.1-0)^2 + (0.7-1)^2 + (0.2-0)^2 = 0.14
    expect(right.annotation.live?.squaredError).toBeCloseTo(0.14, 2);
    clock.advance(1000);
    const wrong = await annotate(stores, { projectId: 'flowers', sampleId: s2.sampleId, version: 0, labelerId: 'ann', classIndex: 2, requestId: rid() });
    expect(wrong.annotation.live?.correct).toBe(false);
    const quality = await projectQuality(stores, 'flowers');
    expect(quality).toMatchObject({ count: 2, errorRate: 0.5 });
    expect(quality.points.map((p) => p.runningErrorRate)).toEqual([0, 0.5]);
  });

  it('skips ranked samples that were labeled since the ranking was made', async () => {
    const { stores } = await ranked();
    await annotate(stores, { projectId: 'flowers', sampleId: 's4', version: 0, labelerId: 'bob', classIndex: 0, requestId: rid() });
    const res = await nextSamples(stores, { projectId: 'flowers', labelerId: 'ann', count: 1, leaseMs: LEASE });
    expect(res.samples.map((s) => s.sampleId)).toEqual(['s2']);
  });
});
