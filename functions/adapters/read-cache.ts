// Short-lived read caches for the two records every labeling request reads: the project and its ranked queue
// (image records: image-cache.ts). Both change rarely (an owner's edit, a retrain every few seconds), and a second of
// staleness is harmless: a write never trusts them (label writes are conditional on the sample's own version, a
// lease on the sample still being free). So an expired entry is answered at once while it is read again in the
// background: a labeler never waits for the ranking to be re-read after a retrain. Per process.

import type { Project, RankedQueue } from '../domain/model.js';
import type { Clock, ProjectStore, RankingStore } from '../domain/ports.js';

interface Entry<T> {
  at: number;
  value: Promise<T>;
  /** The value has arrived (a failed load removes its entry). */
  settled: boolean;
  /** A reload in flight that will replace this entry. */
  reloading?: Promise<void>;
  /** Set when the entry was declared outdated while a reload was already under way: reload once more. */
  outdated?: boolean;
}

/**
 * Entries live `ttlMs`; with `maxStaleMs`, an expired entry is still answered at once (for up to that age) while one
 * reload replaces it in the background (stale-while-revalidate), so that no reader waits on a record that changed
 * little or not at all. Only a missing entry, or one too old, makes a reader wait.
 */
export class TtlCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  constructor(
    private readonly ttlMs: number,
    private readonly clock: Clock,
    private readonly maxStaleMs = 0,
  ) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    const now = this.clock.now();
    const hit = this.entries.get(key);
    if (hit) {
      const age = now - hit.at;
      if (age < this.ttlMs && !hit.outdated) return hit.value;
      if (hit.settled && age < this.maxStaleMs) {
        this.reload(key, hit, load);
        return hit.value;
      }
    }
    return this.load(key, load);
  }

  /**
   * The record changed elsewhere: load it again now, answering with the current entry until it is there.
   * Resolves once the new value is in (readers never wait for it; whoever made the change may).
   */
  refresh(key: string, load: () => Promise<T>): Promise<void> {
    const hit = this.entries.get(key);
    if (!hit || !hit.settled || this.maxStaleMs === 0) {
      if (hit) this.entries.delete(key);
      return Promise.resolve();
    }
    if (hit.reloading) {
      hit.outdated = true; // the reload in flight may have read the record before the change
      return hit.reloading.then(() => this.entries.get(key)?.reloading);
    }
    this.reload(key, hit, load);
    return hit.reloading ?? Promise.resolve();
  }

  forget(key: string): void {
    this.entries.delete(key);
  }

  /** Whether a reader would be answered without waiting for a new read (an entry within its lifetime, maybe in flight). */
  has(key: string): boolean {
    const hit = this.entries.get(key);
    return !!hit && !hit.outdated && this.clock.now() - hit.at < this.ttlMs;
  }

  /** Enters a value read elsewhere (e.g. one of a batch read); readers of the key get it from now on. */
  prime(key: string, value: Promise<T>): Promise<T> {
    return this.load(key, () => value);
  }

  private load(key: string, load: () => Promise<T>): Promise<T> {
    const entry: Entry<T> = { at: this.clock.now(), value: load(), settled: false };
    this.entries.set(key, entry);
    entry.value.then(
      () => (entry.settled = true),
      () => this.entries.get(key) === entry && this.entries.delete(key),
    );
    return entry.value;
  }

  private reload(key: string, stale: Entry<T>, load: () => Promise<T>): void {
    if (stale.reloading) return;
    stale.outdated = false;
    const at = this.clock.now();
    stale.reloading = load().then(
      (value) => {
        if (this.entries.get(key) !== stale) return; // forgotten meanwhile
        const fresh: Entry<T> = { at, value: Promise.resolve(value), settled: true };
        this.entries.set(key, fresh);
        if (stale.outdated) this.reload(key, fresh, load);
      },
      () => {
        stale.reloading = undefined; // keep answering with the old value; the next reader tries again
      },
    );
  }
}

export function cachedProjects(store: ProjectStore, clock: Clock, ttlMs = 2000, maxStaleMs = 60_000): ProjectStore {
  const cache = new TtlCache<Project | undefined>(ttlMs, clock, maxStaleMs);
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
    delete: async (projectId) => {
      await store.delete(projectId);
      cache.forget(projectId);
    },
  };
}

export function cachedRankings(
  store: RankingStore,
  clock: Clock,
  ttlMs = 1000,
  maxStaleMs = 60_000,
): RankingStore & { forget(projectId: string): void; refresh(projectId: string): Promise<void> } {
  const cache = new TtlCache<RankedQueue | undefined>(ttlMs, clock, maxStaleMs);
  return {
    /** Drop the cached ranking: the next reader waits for the stored one. */
    forget: (projectId) => cache.forget(projectId),
    /** A retrain elsewhere (another process) replaced the ranking: read it now, serving the previous one meanwhile;
     * resolves when the new one is in. */
    refresh: (projectId) => cache.refresh(projectId, () => store.get(projectId)),
    // Readers never mutate a ranking, so the cached object is shared.
    get: (projectId) => cache.get(projectId, () => store.get(projectId)),
    put: async (queue) => {
      await store.put(queue);
      cache.forget(queue.projectId);
    },
    delete: async (projectId) => {
      await store.delete(projectId);
      cache.forget(projectId);
    },
  };
}
