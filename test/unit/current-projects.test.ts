// Ingest's read of a project as stored now (functions/ingest/recent-projects.ts currentProjects): every answer comes
// from a read that started after the call (so a switch of embedder written before it is seen), and calls made while
// a read is in flight share the next read instead of one each.

import { describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import type { MemoryProjectStore } from '../../functions/adapters/memory/projects.js';
import type { ProjectStore } from '../../functions/domain/ports.js';
import { createProject } from '../../functions/domain/projects.js';
import { currentProjects } from '../../functions/ingest/recent-projects.js';

/** The memory store, counting its reads. */
function counted(store: MemoryProjectStore): ProjectStore & { reads: number } {
  const wrapped = Object.create(store) as ProjectStore & { reads: number };
  wrapped.reads = 0;
  wrapped.get = async (id) => {
    wrapped.reads++;
    return store.get(id);
  };
  return wrapped;
}

describe('currentProjects', () => {
  it('answers a burst of calls with a read or two, each from a read that started after it', async () => {
    const stores = createMemoryStores();
    await createProject(stores, { id: 'flowers', classes: ['a', 'b'] }, 'owner');
    const memory = stores.projects;
    const store = counted(memory);
    const current = currentProjects(store);
    const burst = await Promise.all(Array.from({ length: 16 }, () => current('flowers')));
    expect(burst.every((p) => p?.id === 'flowers')).toBe(true);
    expect(store.reads).toBeLessThanOrEqual(2);

    // A change made before the call is always seen, also while another read is in flight.
    const inFlight = current('flowers');
    const stored = (await memory.get('flowers'))!;
    await memory.update({ ...stored, embedding: { model: 'tiny64' } }, stored.version);
    expect((await current('flowers'))?.embedding?.model).toBe('tiny64');
    await inFlight;
    expect(await current('nosuch')).toBeUndefined();
  });
});
