// Ingest reads the image's project for every object; a batch of uploads reads the same record hundreds of times.
// Found projects are remembered for a couple of seconds (a settings change reaches ingest that much later, as it
// reaches the API through its own read cache; a switch of embedder is checked once more on the store after each image,
// see embedWithCurrentEmbedder in domain/ingest.ts, so no image misses the new embedder); a missing project is never remembered, so an upload that arrives
// just before its project is created waits no longer than it has to.

import { GroupCommit } from '../adapters/group-commit.js';
import type { Project } from '../domain/model.js';
import type { Clock, ProjectStore } from '../domain/ports.js';

export function recentProjects(store: ProjectStore, clock: Clock, ttlMs = 2000): ProjectStore {
  const found = new Map<string, { at: number; project: Project }>();
  return {
    create: (project) => store.create(project),
    delete: async (projectId) => {
      found.delete(projectId);
      await store.delete(projectId);
    },
    list: () => store.list(),
    update: async (project, expectedVersion) => {
      found.delete(project.id);
      return store.update(project, expectedVersion);
    },
    get: async (projectId) => {
      const hit = found.get(projectId);
      if (hit && clock.now() - hit.at < ttlMs) return structuredClone(hit.project);
      const project = await store.get(projectId);
      if (project) found.set(projectId, { at: clock.now(), project: structuredClone(project) });
      else found.delete(projectId);
      return project;
    },
  };
}

/**
 * The project as stored now, for a caller that must see every write made before it asked (ingest's check for an
 * embedder switch, IngestDeps.currentProject): each answer comes from a read that started after the call. Calls made
 * while a read is in flight share the next one, so a burst of images costs a read or two, not one each.
 */
export function currentProjects(store: ProjectStore): (projectId: string) => Promise<Project | undefined> {
  const reads = new Map<string, { next: GroupCommit<void>; latest?: Project }>();
  return async (projectId) => {
    let entry = reads.get(projectId);
    if (!entry) {
      const made: { next?: GroupCommit<void>; latest?: Project } = {};
      made.next = new GroupCommit(async () => {
        made.latest = await store.get(projectId);
      });
      entry = made as { next: GroupCommit<void>; latest?: Project };
      reads.set(projectId, entry);
    }
    await entry.next.add(undefined);
    return entry.latest && structuredClone(entry.latest);
  };
}
