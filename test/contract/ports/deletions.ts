// Deletion on every store: a deleted record is gone from reads, listings and the queue at once, deleting it again
// (or something that never existed) is a no-op, and its neighbours stay. Deletion jobs (functions/domain/deletion.ts)
// rely on exactly this: every step can be repeated after a crash.

import { describe, expect, it } from 'vitest';
import { aLabel, anAnnotation, anImage, aProject, aSample, uniqueId, type StoreTarget } from '../fixtures.js';

export function deletionContract(target: () => StoreTarget): void {
  describe('deleting records (idempotent)', () => {
    it('removes a project record; a second delete and an unknown id are no-ops', async () => {
      const { projects } = target().stores;
      const gone = aProject(uniqueId('p'));
      const kept = aProject(uniqueId('p'));
      await projects.create(gone);
      await projects.create(kept);
      await projects.delete(gone.id);
      await projects.delete(gone.id);
      await projects.delete(uniqueId('never'));
      expect(await projects.get(gone.id)).toBeUndefined();
      expect(await projects.get(kept.id)).toEqual(kept);
      const ids = (await projects.list()).map((p) => p.id);
      expect(ids).toContain(kept.id);
      expect(ids).not.toContain(gone.id);
      // The id can be taken again.
      await projects.create(gone);
      expect(await projects.get(gone.id)).toEqual(gone);
    });

    it('removes an image record and a sample (from reads, listings and the queue), leaving the others', async () => {
      const { samples } = target().stores;
      const projectId = uniqueId('p');
      await samples.putImageIfAbsent(anImage(projectId, 'img-a'));
      await samples.putImageIfAbsent(anImage(projectId, 'img-b'));
      await samples.putSamplesIfAbsent([aSample(projectId, 'img-a', '0001'), aSample(projectId, 'img-a-b1', '0002'), aSample(projectId, 'img-b', '0003')]);
      await samples.lease(projectId, 'img-a', { labelerId: 'ana', until: Date.now() + 60_000 }, Date.now());

      await samples.deleteSample(projectId, 'img-a');
      await samples.deleteSample(projectId, 'img-a-b1');
      await samples.deleteSample(projectId, 'img-a-b1');
      await samples.deleteImage(projectId, 'img-a');
      await samples.deleteImage(projectId, 'img-a');
      await samples.deleteImage(projectId, 'never');

      expect(await samples.getImage(projectId, 'img-a')).toBeUndefined();
      expect(await samples.getSample(projectId, 'img-a')).toBeUndefined();
      expect((await samples.listImages(projectId)).items.map((i) => i.imageId)).toEqual(['img-b']);
      expect((await samples.listSamples(projectId)).items.map((s) => s.sampleId)).toEqual(['img-b']);
      expect((await samples.queue(projectId)).map((s) => s.sampleId)).toEqual(['img-b']);
      expect(await samples.getSamples(projectId, ['img-a', 'img-b'])).toHaveLength(1);
      // A deleted sample cannot be leased or labeled (a save racing the deletion fails instead of recreating it).
      expect(await samples.lease(projectId, 'img-a', { labelerId: 'ben', until: Date.now() + 60_000 }, Date.now())).toBeUndefined();
      await expect(samples.advance(projectId, 'img-a', 0, { label: aLabel('ben'), labeledBy: ['ben'] })).rejects.toThrow();
      expect(await samples.getSample(projectId, 'img-a')).toBeUndefined();
      expect(await samples.setProposals(projectId, 'img-a', [])).toBeUndefined();
      expect(await samples.getSample(projectId, 'img-a')).toBeUndefined();
    });

    it("lists one image's samples (its own, box samples included) without reading the others", async () => {
      const { samples } = target().stores;
      const projectId = uniqueId('p');
      const a = 'a'.repeat(24);
      const b = `${'a'.repeat(23)}b`;
      await samples.putSamplesIfAbsent([
        aSample(projectId, a, '0001', { imageId: a }),
        aSample(projectId, `${a}-b1`, '0002', { imageId: a, kind: 'box' }),
        aSample(projectId, `${a}-x1_2_3_4`, '0003', { imageId: a, kind: 'box' }),
        aSample(projectId, b, '0004', { imageId: b }),
      ]);
      expect((await samples.listSamplesOfImage(projectId, a)).map((s) => s.sampleId)).toEqual([a, `${a}-b1`, `${a}-x1_2_3_4`]);
      expect((await samples.listSamplesOfImage(projectId, b)).map((s) => s.sampleId)).toEqual([b]);
      expect(await samples.listSamplesOfImage(projectId, 'c'.repeat(24))).toEqual([]);
    });

    it('removes one annotation version: gone from the sample history and the project listing', async () => {
      const { annotations } = target().stores;
      const projectId = uniqueId('p');
      await annotations.append(anAnnotation(projectId, 's1', 0));
      await annotations.append(anAnnotation(projectId, 's1', 1, { labelerId: 'ben' }));
      await annotations.append(anAnnotation(projectId, 's2', 0));
      await annotations.delete(projectId, 's1', 1);
      await annotations.delete(projectId, 's1', 1);
      await annotations.delete(projectId, 's9', 0);
      expect(await annotations.get(projectId, 's1', 1)).toBeUndefined();
      expect((await annotations.listForSample(projectId, 's1')).map((a) => a.version)).toEqual([0]);
      // The byProject index may lag a write on DynamoDB; the fakes and emulators answer at once.
      expect((await annotations.listForProject(projectId)).items.map((a) => `${a.sampleId}@${a.version}`)).toEqual(['s1@0', 's2@0']);
      // The version can be claimed again.
      expect((await annotations.append(anAnnotation(projectId, 's1', 1, { labelerId: 'cy' }))).created).toBe(true);
    });

    it('removes many records and objects at once (batches past the request limits), missing ones included', async () => {
      const { samples, annotations, blobs } = target().stores;
      const projectId = uniqueId('p');
      const ids = Array.from({ length: 60 }, (_, i) => `s${String(i).padStart(3, '0')}`);
      await samples.putSamplesIfAbsent(ids.map((id, i) => aSample(projectId, id, String(i).padStart(4, '0'))));
      for (const id of ids.slice(0, 30)) await samples.putImageIfAbsent(anImage(projectId, id));
      for (const id of ids.slice(0, 30)) await annotations.append(anAnnotation(projectId, id, 0));
      await samples.deleteMany(projectId, { sampleIds: [...ids.slice(0, 59), 'never'], imageIds: [...ids.slice(0, 29), 'never'] });
      expect((await samples.listSamples(projectId)).items.map((s) => s.sampleId)).toEqual(['s059']);
      expect((await samples.listImages(projectId)).items.map((i) => i.imageId)).toEqual(['s029']);
      await annotations.deleteMany(projectId, [...ids.slice(1, 30).map((sampleId) => ({ sampleId, version: 0 })), { sampleId: 'never', version: 3 }]);
      expect((await annotations.listForProject(projectId)).items.map((a) => a.sampleId)).toEqual(['s000']);

      const prefix = `${uniqueId('many')}/`;
      const keys = Array.from({ length: 1005 }, (_, i) => `${prefix}${String(i).padStart(4, '0')}.bin`);
      for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => blobs.put(k, new Uint8Array([1]), 'application/octet-stream')));
      await blobs.deleteMany([...keys.slice(0, 1004), `${prefix}never`]);
      expect((await blobs.list(prefix)).items.map((o) => o.key)).toEqual([keys[1004]]);
      await blobs.deleteMany([]);
    });

    it("removes a labeler's tally; their next label starts a new one", async () => {
      const { labelers } = target().stores;
      const projectId = uniqueId('p');
      await labelers.recordLabel(projectId, 'ana', { sampleId: 's1', version: 0, requestId: 'r1' }, '2025-03-01T10:00:00.000Z');
      await labelers.recordLabel(projectId, 'ben', { sampleId: 's2', version: 0, requestId: 'r2' }, '2025-03-01T10:00:00.000Z');
      await labelers.delete(projectId, 'ana');
      await labelers.delete(projectId, 'ana');
      expect(await labelers.get(projectId, 'ana')).toBeUndefined();
      expect((await labelers.list(projectId)).map((l) => l.labelerId)).toEqual(['ben']);
      const again = await labelers.recordLabel(projectId, 'ana', { sampleId: 's3', version: 0, requestId: 'r3' }, '2025-03-02T10:00:00.000Z');
      expect(again.total).toBe(1);
    });

    it("removes a project's ranking; a new one of any generation can be stored after", async () => {
      const { rankings, samples } = target().stores;
      const projectId = uniqueId('p');
      await samples.putSamplesIfAbsent([aSample(projectId, 's1', '0001')]);
      await rankings.put({ projectId, generation: 5, createdAt: 'x', strategy: 'random', coldStart: true, labels: 0, classes: 2, sampleIds: ['s1'] });
      await rankings.delete(projectId);
      await rankings.delete(projectId);
      expect(await rankings.get(projectId)).toBeUndefined();
      expect((await samples.listSamples(projectId)).items).toHaveLength(1);
      await rankings.put({ projectId, generation: 1, createdAt: 'y', strategy: 'random', coldStart: true, labels: 0, classes: 2, sampleIds: [] });
      expect(await rankings.get(projectId)).toMatchObject({ generation: 1 });
    });
  });
}
