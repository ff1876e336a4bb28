import { describe, expect, it } from 'vitest';
import { RECENT_LIMIT, type LabelerEntry } from '../../../functions/domain/model.js';
import { uniqueId, type StoreTarget } from '../fixtures.js';

const DAY1 = '2025-03-01T23:59:00.000Z';
const DAY2 = '2025-03-02T00:01:00.000Z';
const entry = (n: number, requestId = `req-${n}`): LabelerEntry => ({ sampleId: `s${n}`, version: 0, requestId });

export function labelerStoreContract(target: () => StoreTarget): void {
  describe('LabelerStore', () => {
    it('counts each label once per request id, in total and per UTC day', async () => {
      const { labelers } = target().stores;
      const projectId = uniqueId('p');
      await labelers.recordLabel(projectId, 'ana', entry(1), DAY1);
      await labelers.recordLabel(projectId, 'ana', entry(2), DAY2);
      // A retried write (same request id) is acknowledged without counting twice.
      const retried = await labelers.recordLabel(projectId, 'ana', entry(2), DAY2);
      const expected = {
        projectId,
        labelerId: 'ana',
        total: 2,
        perDay: { '2025-03-01': 1, '2025-03-02': 1 },
        recent: [entry(1), entry(2)],
        lastAt: DAY2,
      };
      expect(retried).toEqual(expected);
      expect(await labelers.get(projectId, 'ana')).toEqual(expected);
      expect(await labelers.get(projectId, 'nobody')).toBeUndefined();
    });

    it('keeps only the most recent writes, newest last, while counting all of them', async () => {
      const { labelers } = target().stores;
      const projectId = uniqueId('p');
      const count = RECENT_LIMIT + 5;
      for (let n = 0; n < count; n++) await labelers.recordLabel(projectId, 'ana', entry(n), DAY1);
      const ana = await labelers.get(projectId, 'ana');
      expect(ana?.total).toBe(count);
      expect(ana?.perDay).toEqual({ '2025-03-01': count });
      expect(ana?.recent).toHaveLength(RECENT_LIMIT);
      expect(ana?.recent[0]).toEqual(entry(5));
      expect(ana?.recent.at(-1)).toEqual(entry(count - 1));
    });

    it('takes back an undone label from the day it was counted, once', async () => {
      const { labelers } = target().stores;
      const projectId = uniqueId('p');
      await labelers.recordLabel(projectId, 'ana', entry(1), DAY1);
      await labelers.recordLabel(projectId, 'ana', entry(2), DAY1);
      const undone = await labelers.recordUndo(projectId, 'ana', entry(1), DAY2);
      expect(undone).toMatchObject({ total: 1, perDay: { '2025-03-01': 1 }, recent: [entry(2)] });
      expect(await labelers.recordUndo(projectId, 'ana', entry(1), DAY2)).toEqual(undone);
      expect(await labelers.recordUndo(projectId, 'ana', entry(9), DAY2)).toEqual(undone);
      await labelers.recordUndo(projectId, 'ana', entry(2), DAY2);
      expect(await labelers.get(projectId, 'ana')).toMatchObject({ total: 0, perDay: {}, recent: [] });
      // Undo by someone never seen records nothing.
      expect(await labelers.recordUndo(projectId, 'ben', entry(1), DAY2)).toMatchObject({ total: 0, recent: [] });
      expect(await labelers.get(projectId, 'ben')).toBeUndefined();
    });

    it('loses no count when one labeler writes from several tabs at once', async () => {
      const { labelers } = target().stores;
      const projectId = uniqueId('p');
      await Promise.all(Array.from({ length: 8 }, (_, n) => labelers.recordLabel(projectId, 'ana', entry(n), DAY1)));
      const ana = await labelers.get(projectId, 'ana');
      expect(ana?.total).toBe(8);
      expect(ana?.recent.map((e) => e.requestId).sort()).toEqual(Array.from({ length: 8 }, (_, n) => `req-${n}`).sort());
    });

    it('lists the labelers of one project by id', async () => {
      const { labelers } = target().stores;
      const projectId = uniqueId('p');
      for (const id of ['cleo', 'ana', 'ben']) await labelers.recordLabel(projectId, id, entry(1), DAY1);
      await labelers.recordLabel(uniqueId('other'), 'dan', entry(1), DAY1);
      expect((await labelers.list(projectId)).map((l) => l.labelerId)).toEqual(['ana', 'ben', 'cleo']);
      expect(await labelers.list(uniqueId('empty'))).toEqual([]);
    });
  });
}
