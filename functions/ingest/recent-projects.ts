// Ingest reads the image's project for every object; a batch of uploads reads the same record hundreds of times.
// Found projects are remembered for a couple of seconds (a settings change reaches ingest that much later, as it
// reaches the API through its own read cache; a switch of embedder is checked once more on the store after each image,
// see embedWithCurrentEmbedder in domain/ingest.ts, so no image misses the new embedder); a missing project is never remembered, so an upload that arrives
// just before its project is created waits no longer than it has to.

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
