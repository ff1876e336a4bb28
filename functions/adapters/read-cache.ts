// Short-lived read caches for the two records every labeling request reads: the project and its ranked queue
// (image records: image-cache.ts). Both change rarely (an owner's edit, a retrain every few seconds), and a second of
// staleness is harmless: a write never trusts them (label writes are conditional on the sample's own version).
// Per process.

import type { Project, RankedQueue } from '../domain/model.js';
import type { Clock, ProjectStore, RankingStore } from '../domain/ports.js';

export class TtlCache<T> {
  private readonly entries = new Map<string, { at: number; value: Promise<T> }>();
  constructor(
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    const now = this.clock.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    const value = load();
    this.entries.set(key, { at: now, value });
    value.catch(() => this.entries.delete(key));
    return value;
  }

  forget(key: string): void {
    this.entries.delete(key);
  }
}

export function cachedProjects(store: ProjectStore, clock: Clock, ttlMs = 2000): ProjectStore {
  const cache = new TtlCache<Project | undefined>(ttlMs, clock);
  return {
    create: async (project) => {
      cache.forget(project.id);
      await store.create(project);
    },
    get: (projectId) => cache.get(projectId, () => store.get(projectId)).then((p) => p && structuredClone(p)),
    list: () => store.list(),
    update: async (project, expectedVersion) => {
      cache.forget(project.id);
      const updated = await store.update(project, expectedVersion);
      cache.forget(project.id);
      return updated;
    },
  };
}

export function cachedRankings(store: RankingStore, clock: Clock, ttlMs = 1000): RankingStore & { forget(projectId: string): void } {
  const cache = new TtlCache<RankedQueue | undefined>(ttlMs, clock);
  return {
    /** A retrain elsewhere (another thread) replaced the ranking. */
    forget: (projectId) => cache.forget(projectId),
    // Readers never mutate a ranking, so the cached object is shared.
    get: (projectId) => cache.get(projectId, () => store.get(projectId)),
    put: async (queue) => {
      await store.put(queue);
      cache.forget(queue.projectId);
    },
  };
}
