import { describe, expect, it } from 'vitest';
import { ConditionFailed } from '../../../functions/domain/errors.js';
import type { Sample } from '../../../functions/domain/model.js';
import type { Page, SampleStore } from '../../../functions/domain/ports.js';
import { aLabel, aSample, anImage, uniqueId, type StoreTarget } from '../fixtures.js';

const NOW = 1_750_000_000_000;
const MINUTE = 60_000;

async function readAll<T>(list: (cursor?: string) => Promise<Page<T>>): Promise<{ pages: T[][]; all: T[] }> {
  const pages: T[][] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    pages.push(page.items);
    cursor = page.cursor;
  } while (cursor);
  return { pages, all: pages.flat() };
}

async function queueIds(samples: SampleStore, projectId: string, opts?: { after?: string; limit?: number }) {
  return (await samples.queue(projectId, opts)).map((s) => s.sampleId);
}

export function sampleStoreContract(target: () => StoreTarget): void {
  describe('SampleStore: images', () => {
    it('creates an image record once; a re-import gets the stored record back', async () => {
      const { samples } = target().stores;
      const projectId = uniqueId('p');
      const image = anImage(projectId, 'img-1', { etag: 'first' });
      expect(await samples.putImageIfAbsent(image)).toEqual({ image, created: true });
      const again = await samples.putImageIfAbsent(anImage(projectId, 'img-1', { etag: 'second', status: 'ready' }));
      expect(again).toEqual({ image, created: false });
      expect(await samples.getImage(projectId, 'img-1')).toEqual(image);
    });

    it('overwrites an image record when ingest changes its status', async () => {
      const { samples } = target().stores;
      const projectId = uniqueId('p');
      await samples.putImageIfAbsent(anImage(projectId, 'img-1'));
      const failed = anImage(projectId, 'img-1', { status: 'failed', reason: 'not an image: truncated JPEG' });
      await samples.putImage(failed);
      expect(await samples.getImage(projectId, 'img-1')).toEqual(failed);
      expect(await samples.getImage(projectId, 'img-404')).toBeUndefined();
    });

    it('reads many image records at once, in the order asked, leaving out missing ones (more than one batch request holds)', async () => {
      const { samples } = target().stores;
      const projectId = uniqueId('p');
      const ids = Array.from({ length: 130 }, (_, i) => `img-${String(i).padStart(3, '0')}`);
      for (const id of ids) await samples.putImageIfAbsent(anImage(projectId, id, { status: id.endsWith('7') ? 'failed' : 'ready' }));
      const asked = ['img-404', ...[...ids].reverse(), 'img-129', 'sample-of-no-image'];
      const got = await samples.getImages(projectId, asked);
      expect(got.map((i) => i.imageId)).toEqual([...ids].reverse().concat('img-129'));
      expect(got.find((i) => i.imageId === 'img-017')).toEqual(await samples.getImage(projectId, 'img-017'));
      expect(await samples.getImages(projectId, [])).toEqual([]);
      expect(await samples.getImages(uniqueId('p'), ids.slice(0, 3))).toEqual([]);
    });

    it("stores ingest's last write for many new images at once: each image ready with its samples, counted", async () => {
      const { samples } = target().stores;
      if (!samples.putIngested) return; // a store without it gets putSamplesIfAbsent + putImage from ingest
      const projectId = uniqueId('p');
      // 30 images arriving together (one with 30 boxes: more records than one batch request holds).
      const work = Array.from({ length: 30 }, (_, i) => {
        const imageId = `img-${String(i).padStart(2, '0')}`;
        const boxes = i === 7 ? 30 : i % 3;
        return {
          pending: anImage(projectId, imageId),
          ready: anImage(projectId, imageId, { status: 'ready' }),
          samples: [aSample(projectId, imageId, `${i}`), ...Array.from({ length: boxes }, (_, b) => aSample(projectId, `${imageId}-b${b + 1}`, `${i}-${b}`))],
        };
      });
      for (const w of work) await samples.putImageIfAbsent(w.pending);
      await Promise.all(work.map((w) => samples.putIngested!(w.pending, w.ready, w.samples)));
      for (const w of work) expect(await samples.getImage(projectId, w.ready.imageId)).toEqual(w.ready);
      const stored = await readAll((cursor) => samples.listSamples(projectId, { cursor, limit: 100 }));
      expect(stored.all.map((s) => s.sampleId).sort()).toEqual(work.flatMap((w) => w.samples.map((s) => s.sampleId)).sort());
      const counts = await samples.counts(projectId);
      expect(counts.images).toEqual({ pending: 0, ready: 30, failed: 0 });
      expect(counts.samples).toBe(stored.all.length);
    });

    it('lists images page by page, without the samples stored beside them', async () => {
      const { samples } = target().stores;
      const projectId = uniqueId('p');
      for (const id of ['e', 'a', 'd', 'b', 'c']) await samples.putImage(anImage(projectId, `img-${id}`));
      await samples.putSamplesIfAbsent([aSample(projectId, 'img-a', '1')]);
      const { pages, all } = await readAll((cursor) => samples.listImages(projectId, { cursor, limit: 2 }));
      expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
      expect(all.map((i) => i.imageId)).toEqual(['img-a', 'img-b', 'img-c', 'img-d', 'img-e']);
      expect((await samples.listImages(uniqueId('empty'))).items).toEqual([]);
    });
  });

  describe('SampleStore: samples and queue', () => {
    it('creates only missing samples and never clobbers a labeled one', async () => {
      const { samples } = target().stores;
      const projectId = uniqueId('p');
      const fresh = [aSample(projectId, 's1', '001'), aSample(projectId, 's2', '002')];
      expect(await samples.putSamplesIfAbsent(fresh)).toBe(2);
      const labeled = await samples.advance(projectId, 's1', 0, { label: aLabel('ana'), labeledBy: ['ana'] });
      // Re-ingesting the same image proposes the same samples again, unlabeled.
      const again = [...fresh, aSample(projectId, 's3', '003')];
      expect(await samples.putSamplesIfAbsent(again)).toBe(1);
      expect(await samples.getSample(projectId, 's1')).toEqual(labeled);
      expect((await samples.getSample(projectId, 's1'))?.label?.labelerId).toBe('ana');
      expect(await samples.getSample(projectId, 's3')).toEqual(again[2]);
    });

    it('creates many samples at once', async () => {
      const { samples } = target().stores;
      const projectId = uniqueId('p');
      const many = Array.from({ length: 40 }, (_, i) => aSample(projectId, `s${String(i).padStart(2, '0')}`, String(i).padStart(3, '0')));
      expect(await samples.putSamplesIfAbsent(many)).toBe(40);
      const { pages, all } = await readAll((cursor) => samples.listSamples(projectId, { cursor, limit: 15 }));
      expect(pages.map((p) => p.length)).toEqual([15, 15, 10]);
      expect(all).toEqual(many);
    });

    it('serves the queue in queue-key order, after a given key, within a limit', async () => {
      const { samples } = target().stores;
      const projectId = uniqueId('p');
      await samples.putSamplesIfAbsent([
        aSample(projectId, 'late', '0003'),
        aSample(projectId, 'early', '0001'),
        aSample(projectId, 'middle', '0002'),
        aSample(projectId, 'done', '0000', { queueKey: undefined, label: aLabel('ana'), labeledBy: ['ana'] }),
      ]);
      expect(await queueIds(samples, projectId)).toEqual(['early', 'middle', 'late']);
      expect(await queueIds(samples, projectId, { after: '0001' })).toEqual(['middle', 'late']);
      expect(await queueIds(samples, projectId, { limit: 2 })).toEqual(['early', 'middle']);
      expect(await queueIds(samples, projectId, { after: '0003' })).toEqual([]);
      expect(await queueIds(samples, uniqueId('empty'))).toEqual([]);
    });

    it('drops a sample from the queue once it has all its labels, and brings it back on undo', async () => {
      const { samples } = target().stores;
      const projectId = uniqueId('p');
      await samples.putSamplesIfAbsent([aSample(projectId, 's1', '001'), aSample(projectId, 's2', '002')]);
      const done = await samples.advance(projectId, 's1', 0, { label: aLabel('ana'), labeledBy: ['ana'] });
      expect(done.queueKey).toBeUndefined();
      expect(await queueIds(samples, projectId)).toEqual(['s2']);
      await samples.advance(projectId, 's1', 1, { labeledBy: [], queueKey: '001' });
      expect(await queueIds(samples, projectId)).toEqual(['s1', 's2']);
    });
  });

  describe('SampleStore: leases', () => {
    it('gives a sample to one labeler at a time until the lease expires', async () => {
      const { samples } = target().stores;
      const projectId = uniqueId('p');
      await samples.putSamplesIfAbsent([aSample(projectId, 's1', '001')]);
      const anaLease = { labelerId: 'ana', until: NOW + MINUTE, probs: [0.7, 0.2, 0.1] };
      const leased = await samples.lease(projectId, 's1', anaLease, NOW);
      expect(leased?.lease).toEqual(anaLease);
      expect((await samples.getSample(projectId, 's1'))?.lease).toEqual(anaLease);

      expect(await samples.lease(projectId, 's1', { labelerId: 'ben', until: NOW + 2 * MINUTE }, NOW + 1000)).toBeUndefined();
      expect((await samples.getSample(projectId, 's1'))?.lease?.labelerId).toBe('ana');

      // The holder may renew; nobody else may take it until it runs out.
      const renewed = await samples.lease(projectId, 's1', { labelerId: 'ana', until: NOW + 3 * MINUTE }, NOW + 2000);
      expect(renewed?.lease).toEqual({ labelerId: 'ana', until: NOW + 3 * MINUTE });
      expect(await samples.lease(projectId, 's1', { labelerId: 'ben', until: NOW + 4 * MINUTE }, NOW + 3 * MINUTE)).toBeUndefined();

      const taken = await samples.lease(projectId, 's1', { labelerId: 'ben', until: NOW + 5 * MINUTE }, NOW + 3 * MINUTE + 1);
      expect(taken?.lease?.labelerId).toBe('ben');
    });

    it('lets exactly one of two labelers racing for the same sample win', async () => {
      const { samples } = target().stores;
      const projectId = uniqueId('p');
      await samples.putSamplesIfAbsent([aSample(projectId, 's1', '001')]);
      const results = await Promise.all(
        ['ana', 'ben'].map((labelerId) => samples.lease(projectId, 's1', { labelerId, until: NOW + MINUTE }, NOW)),
      );
      const winners = results.filter((r) => r !== undefined);
      expect(winners).toHaveLength(1);
      expect((await samples.getSample(projectId, 's1'))?.lease?.labelerId).toBe(winners[0]?.lease?.labelerId);
    });

    it('leases neither finished nor unknown samples', async () => {
      const { samples } = target().stores;
      const projectId = uniqueId('p');
      await samples.putSamplesIfAbsent([aSample(projectId, 's1', '001')]);
      await samples.advance(projectId, 's1', 0, { label: aLabel('ana'), labeledBy: ['ana'] });
      expect(await samples.lease(projectId, 's1', { labelerId: 'ben', until: NOW + MINUTE }, NOW)).toBeUndefined();
      expect(await samples.lease(projectId, 'nope', { labelerId: 'ben', until: NOW + MINUTE }, NOW)).toBeUndefined();
      expect(await samples.getSample(projectId, 'nope')).toBeUndefined();
    });
  });

  describe('SampleStore: advance', () => {
    it('moves the sample to the next version with its label, and ends the lease', async () => {
      const { samples } = target().stores;
      const projectId = uniqueId('p');
      const sample = aSample(projectId, 's1', '001');
      await samples.putSamplesIfAbsent([sample]);
      await samples.lease(projectId, 's1', { labelerId: 'ana', until: NOW + MINUTE }, NOW);
      const label = { ...aLabel('ana', [0, 1, 0]), ambiguous: true };
      const advanced = await samples.advance(projectId, 's1', 0, { label, labeledBy: ['ana'] });
      const { queueKey: _gone, ...rest } = sample;
      expect(advanced).toEqual({ ...rest, version: 1, label, labeledBy: ['ana'] });
      expect(await samples.getSample(projectId, 's1')).toEqual(advanced);
    });

    it('keeps the sample queued for a second labeler when overlap asks for more labels', async () => {
      const { samples } = target().stores;
      const projectId = uniqueId('p');
      await samples.putSamplesIfAbsent([aSample(projectId, 's1', '001')]);
      const partly = await samples.advance(projectId, 's1', 0, { label: aLabel('ana'), labeledBy: ['ana'], queueKey: '001' });
      expect(partly).toMatchObject({ version: 1, labeledBy: ['ana'], queueKey: '001' });
      expect(await queueIds(samples, projectId)).toEqual(['s1']);
    });

    it('refuses a write made from a stale version and changes nothing', async () => {
      const { samples } = target().stores;
      const projectId = uniqueId('p');
      await samples.putSamplesIfAbsent([aSample(projectId, 's1', '001')]);
      await samples.advance(projectId, 's1', 0, { label: aLabel('ana'), labeledBy: ['ana'], queueKey: '001' });
      await samples.lease(projectId, 's1', { labelerId: 'ben', until: NOW + MINUTE }, NOW);
      const before = await samples.getSample(projectId, 's1');
      await expect(
        samples.advance(projectId, 's1', 0, { label: aLabel('ben', [0, 0, 1]), labeledBy: ['ben'] }),
      ).rejects.toBeInstanceOf(ConditionFailed);
      expect(await samples.getSample(projectId, 's1')).toEqual(before);
      await expect(samples.advance(projectId, 'nope', 0, { labeledBy: [] })).rejects.toBeInstanceOf(ConditionFailed);
      expect(await samples.getSample(projectId, 'nope')).toBeUndefined();
    });

    it('clears the label when a write carries none (undo)', async () => {
      const { samples } = target().stores;
      const projectId = uniqueId('p');
      await samples.putSamplesIfAbsent([aSample(projectId, 's1', '001')]);
      await samples.advance(projectId, 's1', 0, { label: aLabel('ana'), labeledBy: ['ana'] });
      const undone = await samples.advance(projectId, 's1', 1, { labeledBy: [], queueKey: '001' });
      expect(undone.label).toBeUndefined();
      expect('label' in undone).toBe(false);
      expect(undone).toMatchObject({ version: 2, labeledBy: [], queueKey: '001' });
    });

    it('hands out copies: changing a returned sample changes nothing stored', async () => {
      const { samples } = target().stores;
      const projectId = uniqueId('p');
      const sample = aSample(projectId, 's1', '001');
      await samples.putSamplesIfAbsent([sample]);
      sample.labeledBy.push('intruder');
      const read = (await samples.getSample(projectId, 's1')) as Sample;
      read.suggestions![0].probability = 0;
      read.labeledBy.push('intruder');
      const again = await samples.getSample(projectId, 's1');
      expect(again?.labeledBy).toEqual([]);
      expect(again?.suggestions?.[0].probability).toBe(0.8);
    });
  });

  describe('SampleStore: proposals', () => {
    const proposals = [
      { box: [10, 20, 110.5, 220] as [number, number, number, number], classIndex: 1, source: 'model' as const, score: 0.91 },
      { box: [0, 0, 5, 5] as [number, number, number, number], classIndex: 0, source: 'model' as const },
    ];

    it('replaces the proposals of a sample and leaves its label, version, queue place and lease alone', async () => {
      const { samples } = target().stores;
      const projectId = uniqueId('p');
      await samples.putSamplesIfAbsent([aSample(projectId, 's1', '001', { proposals: [{ box: [1, 1, 2, 2], classIndex: 2, source: 'model', score: 0.3 }] })]);
      await samples.advance(projectId, 's1', 0, { label: aLabel('ana'), labeledBy: ['ana'], queueKey: '001' });
      await samples.lease(projectId, 's1', { labelerId: 'ben', until: NOW + MINUTE }, NOW);
      const before = (await samples.getSample(projectId, 's1')) as Sample;

      const updated = await samples.setProposals(projectId, 's1', proposals);
      expect(updated).toEqual({ ...before, proposals });
      expect(await samples.getSample(projectId, 's1')).toEqual({ ...before, proposals });
      expect(await queueIds(samples, projectId)).toEqual(['s1']);
      // Setting the same proposals again changes nothing (imports may be re-run).
      expect(await samples.setProposals(projectId, 's1', proposals)).toEqual({ ...before, proposals });
      expect((await samples.setProposals(projectId, 's1', []))?.proposals).toEqual([]);
    });

    it('creates no sample for an unknown id', async () => {
      const { samples } = target().stores;
      const projectId = uniqueId('p');
      expect(await samples.setProposals(projectId, 'nope', proposals)).toBeUndefined();
      expect(await samples.getSample(projectId, 'nope')).toBeUndefined();
    });
  });
}
