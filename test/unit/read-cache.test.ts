import { describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { cachedProjects, cachedRankings } from '../../functions/adapters/read-cache.js';
import { createProject, editProject } from '../../functions/domain/projects.js';
import { ManualClock } from '../support/fixtures.js';

describe('read caches', () => {
  it('serve a project from cache briefly, and never a stale one after an edit through them', async () => {
    const clock = new ManualClock();
    const raw = createMemoryStores(clock);
    const stores = { ...raw, projects: cachedProjects(raw.projects, clock, 2000) };
    await createProject(stores, { id: 'p', classes: ['a', 'b'] }, 'o');
    expect((await stores.projects.get('p'))?.name).toBe('p');
    await editProject(stores, 'p', { version: 1, name: 'Meadow' });
    expect((await stores.projects.get('p'))?.name).toBe('Meadow');
    // An edit made elsewhere (another process) shows once the entry expires.
    await raw.projects.update({ ...(await raw.projects.get('p'))!, name: 'Elsewhere' }, 2);
    expect((await stores.projects.get('p'))?.name).toBe('Meadow');
    clock.advance(2001);
    expect((await stores.projects.get('p'))?.name).toBe('Elsewhere');
    // Callers get copies: mutating one does not change what the next caller sees.
    (await stores.projects.get('p'))!.classes.push('x');
    expect((await stores.projects.get('p'))?.classes).toEqual(['a', 'b']);
  });

  it('drop a ranking when told that a retrain replaced it', async () => {
    const clock = new ManualClock();
    const raw = createMemoryStores(clock);
    const rankings = cachedRankings(raw.rankings, clock, 60_000);
    const queue = { projectId: 'p', generation: 1, createdAt: 'x', strategy: 'margin', coldStart: true, labels: 0, classes: 2, sampleIds: ['a'] };
    await raw.rankings.put(queue);
    expect((await rankings.get('p'))?.generation).toBe(1);
    await raw.rankings.put({ ...queue, generation: 2 });
    expect((await rankings.get('p'))?.generation).toBe(1);
    rankings.forget('p');
    expect((await rankings.get('p'))?.generation).toBe(2);
  });
});
