import { describe, expect, it } from 'vitest';
import type { RankedQueue } from '../../../functions/domain/model.js';
import { aSample, uniqueId, type StoreTarget } from '../fixtures.js';

export function rankingStoreContract(target: () => StoreTarget): void {
  describe('RankingStore and batch sample reads', () => {
    it('stores the latest ranking per project with its probabilities to fp16 precision', async () => {
      const { rankings } = target().stores;
      const projectId = uniqueId('p');
      expect(await rankings.get(projectId)).toBeUndefined();
      const sampleIds = Array.from({ length: 2000 }, (_, i) => `s${i}`);
      const probs = new Float32Array(2000 * 10).map((_, i) => ((i * 7919) % 1000) / 1000);
      const queue: RankedQueue = {
        projectId, generation: 3, createdAt: '2026-11-22T10:00:00.000Z', strategy: 'cluster-margin', coldStart: false,
        labels: 40, classes: 10, sampleIds, probs, model: 'mobilenetv2-features',
      };
      await rankings.put(queue);
      const stored = await rankings.get(projectId);
      expect(stored).toMatchObject({ generation: 3, strategy: 'cluster-margin', labels: 40, classes: 10, sampleIds });
      expect(stored!.probs).toHaveLength(20_000);
      let worst = 0;
      stored!.probs!.forEach((p, i) => (worst = Math.max(worst, Math.abs(p - probs[i]))));
      expect(worst).toBeLessThan(1e-3);
      await rankings.put({ ...queue, generation: 4, sampleIds: ['s9'], probs: undefined, coldStart: true });
      const replaced = await rankings.get(projectId);
      expect(replaced).toMatchObject({ generation: 4, sampleIds: ['s9'], coldStart: true });
      expect(replaced!.probs).toBeUndefined();
    });

    it('reads many samples in one call, in the order asked, leaving out unknown ids', async () => {
      const { samples, rankings } = target().stores;
      const projectId = uniqueId('p');
      await samples.putSamplesIfAbsent(Array.from({ length: 150 }, (_, i) => aSample(projectId, `s${i}`, String(i).padStart(4, "0"))));
      await rankings.put({ projectId, generation: 1, createdAt: 'x', strategy: 'random', coldStart: true, labels: 0, classes: 2, sampleIds: ['s1'] });
      const ids = ['s149', 'nope', ...Array.from({ length: 120 }, (_, i) => `s${i}`)];
      const got = await samples.getSamples(projectId, ids);
      expect(got.map((s) => s.sampleId)).toEqual(ids.filter((id) => id !== 'nope'));
      // The ranking record never shows up as a sample.
      expect((await samples.listSamples(projectId, { limit: 1000 })).items).toHaveLength(150);
    });
  });
}
