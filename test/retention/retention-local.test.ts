// The local stack sweeps retention at start (and every hour): a project keeping exports 7 days, seeded while the
// stack ran, loses its 10-day-old export when the stack starts again on the same folder; a fresh export stays; the
// stack still closes promptly (the schedule stops with it).

import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createProject } from '../../functions/domain/projects.js';
import { DAY_MS } from '../../functions/domain/retention.js';
import { startTestStack, tempDir, waitFor } from '../support/stack.js';

async function exportFolder(blobs: { put(key: string, body: Uint8Array, type: string): Promise<unknown> }, exportId: string, daysAgo: number) {
  const at = new Date(Date.now() - daysAgo * DAY_MS).toISOString();
  const status = { exportId, projectId: 'kept', request: { format: 'csv', include: 'labeled', images: false }, state: 'done', requestedBy: 'owner', createdAt: at, updatedAt: at, startedAt: at, finishedAt: at, counts: {}, bytes: 1, fileName: 'x.csv', contentType: 'text/csv' };
  await blobs.put(`exports/kept/${exportId}/status.json`, new TextEncoder().encode(JSON.stringify(status)), 'application/json');
  await blobs.put(`exports/kept/${exportId}/x.csv`, new TextEncoder().encode('x'), 'text/csv');
}

describe('retention on the local stack', () => {
  it('sweeps at start and stops with the stack', { timeout: 120_000 }, async () => {
    const dir = await tempDir('retention');
    try {
      const first = await startTestStack(dir);
      await createProject(first.stores, { id: 'kept', classes: ['a', 'b'], retention: { exportsDays: 7 } }, 'owner');
      await exportFolder(first.stores.blobs, '20260101-000000-aaaaaa', 10);
      await exportFolder(first.stores.blobs, '20260101-000000-bbbbbb', 2);
      await first.close();

      const second = await startTestStack(dir);
      try {
        const keys = async () => (await second.stores.blobs.list('exports/kept/', { limit: 100 })).items.map((o) => o.key).sort();
        await waitFor(async () => (await keys()).every((k) => !k.includes('aaaaaa')), 'the old export swept at start', 30_000);
        expect(await keys()).toEqual(['exports/kept/20260101-000000-bbbbbb/status.json', 'exports/kept/20260101-000000-bbbbbb/x.csv']);
      } finally {
        const closing = Date.now();
        await second.close();
        expect(Date.now() - closing).toBeLessThan(15_000);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
