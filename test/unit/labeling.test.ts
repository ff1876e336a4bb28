import { describe, expect, it } from 'vitest';
import { annotate } from '../../functions/domain/annotate.js';
import { WinnowError } from '../../functions/domain/errors.js';
import { nextSamples } from '../../functions/domain/serving/next-samples.js';
import { undoLast } from '../../functions/domain/undo.js';
import { projectWithSamples, rid } from '../support/fixtures.js';

const LEASE = 60_000;
const next = (stores: Parameters<typeof nextSamples>[0], labelerId: string, count = 1) =>
  nextSamples(stores, { projectId: 'flowers', labelerId, count, leaseMs: LEASE });

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof WinnowError) return err.code;
    throw err;
  }
}

describe('serving samples', () => {
  it('serves unlabeled samples in upload order and never the same one to two labelers', async () => {
    const { stores } = await projectWithSamples(4);
    const ann = await next(stores, 'ann', 2);
    const bob = await next(stores, 'bob', 2);
    expect(ann.samples.map((s) => s.sampleId)).toEqual(['s1', 's2']);
    expect(bob.samples.map((s) => s.sampleId)).toEqual(['s3', 's4']);
    expect((await next(stores, 'cid')).samples).toEqual([]);
  });

  it('gives the same labeler their own leased samples again (reload keeps your place)', async () => {
    const { stores } = await projectWithSamples(3);
    await next(stores, 'ann', 2);
    expect((await next(stores, 'ann', 2)).samples.map((s) => s.sampleId)).toEqual(['s1', 's2']);
  });

  it('hands a sample to someone else once its lease expires', async () => {
    const { stores, clock } = await projectWithSamples(1);
    await next(stores, 'ann');
    expect((await next(stores, 'bob')).samples).toEqual([]);
    clock.advance(LEASE + 1);
    expect((await next(stores, 'bob')).samples.map((s) => s.sampleId)).toEqual(['s1']);
  });

  it('says done when every sample is labeled', async () => {
    const { stores } = await projectWithSamples(1);
    const [s] = (await next(stores, 'ann')).samples;
    await annotate(stores, { projectId: 'flowers', sampleId: s.sampleId, version: 0, labelerId: 'ann', classIndex: 0, requestId: rid() });
    expect(await next(stores, 'ann')).toMatchObject({ samples: [], done: true });
  });

  it('with overlap 2, serves a sample to two distinct labelers, then stops serving it', async () => {
    const { stores } = await projectWithSamples(1, { overlap: 2 });
    const a = (await next(stores, 'ann')).samples[0];
    await annotate(stores, { projectId: 'flowers', sampleId: a.sampleId, version: 0, labelerId: 'ann', classIndex: 0, requestId: rid() });
    expect((await next(stores, 'ann')).samples).toEqual([]);
    const b = (await next(stores, 'bob')).samples[0];
    expect(b.sampleId).toBe('s1');
    const done = await annotate(stores, { projectId: 'flowers', sampleId: 's1', version: b.version, labelerId: 'bob', classIndex: 1, requestId: rid() });
    expect(done.sample.labeledBy).toEqual(['ann', 'bob']);
    expect((await next(stores, 'cid')).done).toBe(true);
  });
});

describe('annotating', () => {
  it('stores the label on the sample, moves its version and keeps an append-only history', async () => {
    const { stores } = await projectWithSamples(2);
    const res = await annotate(stores, {
      projectId: 'flowers', sampleId: 's1', version: 0, labelerId: 'ann', confidences: [0.75, 0.25, 0], requestId: rid(),
    });
    expect(res.sample.version).toBe(1);
    expect(res.sample.label).toMatchObject({ confidences: [0.75, 0.25, 0], ambiguous: false, labelerId: 'ann' });
    expect(res.sample.queueKey).toBeUndefined();
    const history = await stores.annotations.listForSample('flowers', 's1');
    expect(history.map((a) => [a.version, a.kind])).toEqual([[0, 'label']]);
    expect((await stores.labelers.get('flowers', 'ann'))?.total).toBe(1);
  });

  it('acknowledges a retried request once, without a second history entry or count', async () => {
    const { stores } = await projectWithSamples(1);
    const input = { projectId: 'flowers', sampleId: 's1', version: 0, labelerId: 'ann', classIndex: 2, requestId: rid() };
    const first = await annotate(stores, input);
    const again = await annotate(stores, input);
    expect(again.replayed).toBe(true);
    expect(again.sample.version).toBe(first.sample.version);
    expect(await stores.annotations.listForSample('flowers', 's1')).toHaveLength(1);
    expect((await stores.labelers.get('flowers', 'ann'))?.total).toBe(1);
  });

  it('refuses a stale version with 409 and writes nothing', async () => {
    const { stores } = await projectWithSamples(1);
    await annotate(stores, { projectId: 'flowers', sampleId: 's1', version: 0, labelerId: 'ann', classIndex: 0, requestId: rid() });
    const stale = annotate(stores, { projectId: 'flowers', sampleId: 's1', version: 0, labelerId: 'bob', classIndex: 1, requestId: rid() });
    expect(await code(stale)).toBe('stale_version');
    const sample = await stores.samples.getSample('flowers', 's1');
    expect(sample?.label?.labelerId).toBe('ann');
    expect(await stores.annotations.listForSample('flowers', 's1')).toHaveLength(1);
    expect(await stores.labelers.get('flowers', 'bob')).toBeUndefined();
  });

  it('refuses to label a sample leased to someone else', async () => {
    const { stores } = await projectWithSamples(1);
    await next(stores, 'ann');
    const taken = annotate(stores, { projectId: 'flowers', sampleId: 's1', version: 0, labelerId: 'bob', classIndex: 0, requestId: rid() });
    expect(await code(taken)).toBe('lease_conflict');
  });

  it.each([
    [{ classIndex: 3 }, 'bad_request'],
    [{ classIndex: -1 }, 'bad_request'],
    [{ confidences: [1, 1, 0] }, 'bad_request'],
    [{ confidences: [0.3, 0, 0] }, 'bad_request'],
    [{ confidences: [1, 0] }, 'bad_request'],
    [{ confidences: [0, 0, 0] }, 'bad_request'],
    [{ confidences: [0, 0, 0], ambiguous: true }, 'ok'],
  ])('validates the label %j -> %s', async (label, expected) => {
    const { stores } = await projectWithSamples(1);
    expect(await code(annotate(stores, { projectId: 'flowers', sampleId: 's1', version: 0, labelerId: 'ann', requestId: rid(), ...label }))).toBe(expected);
  });

  it('answers not_found for an unknown project or sample', async () => {
    const { stores } = await projectWithSamples(1);
    expect(await code(annotate(stores, { projectId: 'nope', sampleId: 's1', version: 0, labelerId: 'a', classIndex: 0, requestId: rid() }))).toBe('not_found');
    expect(await code(annotate(stores, { projectId: 'flowers', sampleId: 'zz', version: 0, labelerId: 'a', classIndex: 0, requestId: rid() }))).toBe('not_found');
  });

  it('repairs a head left behind by a writer that died after logging its annotation', async () => {
    const { stores } = await projectWithSamples(1);
    const sample = (await stores.samples.getSample('flowers', 's1'))!;
    // Simulate the crash: the log has version 0, the head was never advanced.
    await stores.annotations.append({
      projectId: 'flowers', sampleId: 's1', version: 0, kind: 'label', labelerId: 'ann', confidences: [0, 1, 0], ambiguous: false,
      before: { labeledBy: sample.labeledBy }, requestId: 'crashed-request', at: '2026-11-22T10:00:00.000Z',
    });
    const late = annotate(stores, { projectId: 'flowers', sampleId: 's1', version: 0, labelerId: 'bob', classIndex: 0, requestId: rid() });
    expect(await code(late)).toBe('stale_version');
    const repaired = await stores.samples.getSample('flowers', 's1');
    expect(repaired).toMatchObject({ version: 1, label: { labelerId: 'ann', confidences: [0, 1, 0] } });
    // The crashed writer's retry is acknowledged and its progress recorded.
    const retry = await annotate(stores, { projectId: 'flowers', sampleId: 's1', version: 0, labelerId: 'ann', classIndex: 1, requestId: 'crashed-request' });
    expect(retry.replayed).toBe(true);
    expect((await stores.labelers.get('flowers', 'ann'))?.total).toBe(1);
  });
});

describe('undo', () => {
  it('restores the sample to unlabeled, puts it back in the queue and keeps both records', async () => {
    const { stores } = await projectWithSamples(2);
    await annotate(stores, { projectId: 'flowers', sampleId: 's1', version: 0, labelerId: 'ann', classIndex: 0, requestId: rid() });
    const res = await undoLast(stores, { projectId: 'flowers', labelerId: 'ann', requestId: rid() });
    expect(res.sample).toMatchObject({ version: 2, labeledBy: [] });
    expect(res.sample.label).toBeUndefined();
    expect(res.sample.queueKey).toBe(res.sample.order);
    expect((await stores.annotations.listForSample('flowers', 's1')).map((a) => a.kind)).toEqual(['label', 'undo']);
    expect((await stores.labelers.get('flowers', 'ann'))?.total).toBe(0);
    expect((await next(stores, 'ann')).samples[0].sampleId).toBe('s1');
  });

  it('undoes a re-label back to the earlier label, then the label before that', async () => {
    const { stores } = await projectWithSamples(1);
    await annotate(stores, { projectId: 'flowers', sampleId: 's1', version: 0, labelerId: 'ann', classIndex: 0, requestId: rid() });
    await annotate(stores, { projectId: 'flowers', sampleId: 's1', version: 1, labelerId: 'ann', classIndex: 2, requestId: rid() });
    const first = await undoLast(stores, { projectId: 'flowers', labelerId: 'ann', requestId: rid() });
    expect(first.sample.label?.confidences).toEqual([1, 0, 0]);
    const second = await undoLast(stores, { projectId: 'flowers', labelerId: 'ann', requestId: rid() });
    expect(second.sample.label).toBeUndefined();
    expect(await code(undoLast(stores, { projectId: 'flowers', labelerId: 'ann', requestId: rid() }))).toBe('conflict');
  });

  it('a retried undo of a given sample does not undo a second label', async () => {
    const { stores } = await projectWithSamples(2);
    await annotate(stores, { projectId: 'flowers', sampleId: 's1', version: 0, labelerId: 'ann', classIndex: 0, requestId: rid() });
    await annotate(stores, { projectId: 'flowers', sampleId: 's2', version: 0, labelerId: 'ann', classIndex: 1, requestId: rid() });
    const requestId = rid();
    await undoLast(stores, { projectId: 'flowers', labelerId: 'ann', requestId, sampleId: 's2' });
    const retry = await undoLast(stores, { projectId: 'flowers', labelerId: 'ann', requestId, sampleId: 's2' });
    expect(retry.replayed).toBe(true);
    expect((await stores.samples.getSample('flowers', 's1'))?.label?.confidences).toEqual([1, 0, 0]);
  });

  it("refuses to undo over another labeler's newer label", async () => {
    const { stores } = await projectWithSamples(1);
    await annotate(stores, { projectId: 'flowers', sampleId: 's1', version: 0, labelerId: 'ann', classIndex: 0, requestId: rid() });
    await annotate(stores, { projectId: 'flowers', sampleId: 's1', version: 1, labelerId: 'bob', classIndex: 1, requestId: rid() });
    expect(await code(undoLast(stores, { projectId: 'flowers', labelerId: 'ann', requestId: rid() }))).toBe('conflict');
    expect((await stores.samples.getSample('flowers', 's1'))?.label?.labelerId).toBe('bob');
  });
});

describe('agreement', () => {
  it('compares the labels in effect of labelers who labeled the same samples', async () => {
    const { projectAgreement } = await import('../../functions/domain/agreement.js');
    const { stores } = await projectWithSamples(3, { overlap: 2 });
    const label = (sampleId: string, version: number, labelerId: string, classIndex: number) =>
      annotate(stores, { projectId: 'flowers', sampleId, version, labelerId, classIndex, requestId: rid() });
    await label('s1', 0, 'ann', 0);
    await label('s1', 1, 'bob', 0);
    await label('s2', 0, 'ann', 1);
    await label('s2', 1, 'bob', 2);
    await label('s3', 0, 'ann', 2);
    expect(await projectAgreement(stores, 'flowers')).toEqual({
      samples: 2,
      unanimous: 0.5,
      pairs: [{ a: 'ann', b: 'bob', shared: 2, agreement: 0.5, disagree: 1 }],
      // Per class: s1 (both class 0), s2 (1 against 2); s3 has one labeler.
      classes: [
        { classIndex: 0, class: expect.any(String), samples: 1, agreement: 1, disagree: 0 },
        { classIndex: 1, class: expect.any(String), samples: 1, agreement: 0, disagree: 1 },
        { classIndex: 2, class: expect.any(String), samples: 1, agreement: 0, disagree: 1 },
      ],
    });
    // Bob takes back his disagreeing label: only s1 is shared now, and they agree.
    await undoLast(stores, { projectId: 'flowers', labelerId: 'bob', requestId: rid(), sampleId: 's2' });
    expect(await projectAgreement(stores, 'flowers')).toMatchObject({ samples: 1, unanimous: 1 });
  });
});
