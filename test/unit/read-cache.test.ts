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
    // An edit made elsewhere (another process) shows once the entry expired: the first read after that answers at
    // once with what it has and reads the project again, the reads after it see the edit.
    await raw.projects.update({ ...(await raw.projects.get('p'))!, name: 'Elsewhere' }, 2);
    expect((await stores.projects.get('p'))?.name).toBe('Meadow');
    clock.advance(2001);
    expect((await stores.projects.get('p'))?.name).toBe('Meadow');
    await new Promise((r) => setImmediate(r));
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

  it('answer with the previous ranking while the new one is read after a retrain, then with the new one', async () => {
    const clock = new ManualClock();
    const raw = createMemoryStores(clock);
    let reads = 0;
    let release: (() => void) | undefined;
    // The store with a slow `get` (its other methods from the memory store: a prototype, as a spread drops class methods).
    const slow: typeof raw.rankings = Object.assign(Object.create(raw.rankings), {
      get: async (projectId: string) => {
        reads++;
        await new Promise<void>((r) => (release = r));
        return raw.rankings.get(projectId);
      },
    });
    const rankings = cachedRankings(slow, clock, 1000, 60_000);
    const queue = { projectId: 'p', generation: 1, createdAt: 'x', strategy: 'margin', coldStart: true, labels: 0, classes: 2, sampleIds: ['a'] };
    await raw.rankings.put(queue);
    const first = rankings.get('p');
    release!();
    expect((await first)?.generation).toBe(1);

    await raw.rankings.put({ ...queue, generation: 2 });
    rankings.refresh('p'); // the trainer replaced it: read again now
    expect(reads).toBe(2);
    expect((await rankings.get('p'))?.generation).toBe(1); // nobody waits for the read in flight
    rankings.refresh('p'); // a second retrain while that read is under way: one more read after it
    release!();
    await new Promise((r) => setImmediate(r));
    expect(reads).toBe(3);
    await raw.rankings.put({ ...queue, generation: 3 });
    release!();
    await new Promise((r) => setImmediate(r));
    expect((await rankings.get('p'))?.generation).toBe(3);
    expect(reads).toBe(3);

    // Expired: still answered at once, refreshed in the background; a failed refresh keeps the old one.
    clock.advance(1001);
    await raw.rankings.put({ ...queue, generation: 4 });
    expect((await rankings.get('p'))?.generation).toBe(3);
    release!();
    await new Promise((r) => setImmediate(r));
    expect((await rankings.get('p'))?.generation).toBe(4);
    // Too old to answer with (over a minute): the reader waits for the stored one.
    clock.advance(60_001);
    await raw.rankings.put({ ...queue, generation: 5 });
    const late = rankings.get('p');
    release!();
    expect((await late)?.generation).toBe(5);
  });

  it('keep answering with a project whose re-read failed, and try again on the next read', async () => {
    const clock = new ManualClock();
    const raw = createMemoryStores(clock);
    let fail = false;
    const flaky: typeof raw.projects = Object.assign(Object.create(raw.projects), {
      get: async (id: string) => (fail ? Promise.reject(new Error('throttled')) : raw.projects.get(id)),
    });
    const projects = cachedProjects(flaky, clock, 2000);
    await createProject({ ...raw, projects: raw.projects }, { id: 'p', classes: ['a', 'b'] }, 'o');
    expect((await projects.get('p'))?.classes).toEqual(['a', 'b']);
    fail = true;
    clock.advance(2001);
    expect((await projects.get('p'))?.classes).toEqual(['a', 'b']);
    await new Promise((r) => setImmediate(r));
    fail = false;
    await raw.projects.update({ ...(await raw.projects.get('p'))!, name: 'Renamed' }, 1);
    expect((await projects.get('p'))?.name).toBe('p'); // answered at once; this read started the retry
    await new Promise((r) => setImmediate(r));
    expect((await projects.get('p'))?.name).toBe('Renamed');
  });
});
