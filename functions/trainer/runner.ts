// Where retrains run. The trainer worker decides when; a runner does the work and keeps the per-project cache
// (embeddings, labels, last model) between runs: in this thread (tests with in-memory stores), or in a child
// process (the local stack, functions/local/trainer-process.ts), so that a retrain never slows the labelers.

import type { Project } from '../domain/model.js';
import type { Stores } from '../domain/ports.js';
import { retrainProject, type ProjectTrainingState, type RetrainResult } from '../domain/retrain.js';
import { similarIndexFor, similarSamples, type SimilarOptions } from '../domain/similar.js';
import { rankingRetrainPorts } from '../adapters/ranking-codec.js';

export interface RetrainRequest {
  project: Project;
  embedder: string;
  /** Samples whose labels changed since the last run. */
  changed: string[];
  batchSize: number;
  /** The deployment's audit rate for projects without their own (domain/retrain.ts). */
  auditRate?: number;
}

export interface TrainerRunner {
  retrain(request: RetrainRequest): Promise<RetrainResult | undefined>;
  similar(projectId: string, embedder: string, sampleId: string, k: number, opts?: SimilarOptions): Promise<{ sampleId: string; similarity: number }[]>;
  close(): Promise<void>;
}

export function inProcessRunner(stores: Stores): TrainerRunner {
  const states = new Map<string, ProjectTrainingState>();
  const ports = rankingRetrainPorts;
  const state = (projectId: string) => {
    let s = states.get(projectId);
    if (!s) states.set(projectId, (s = {}));
    return s;
  };
  return {
    retrain: async (r) => {
      const s = state(r.project.id);
      const result = await retrainProject(stores, ports, r.project, s, { embedder: r.embedder, changed: r.changed, batchSize: r.batchSize, auditRate: r.auditRate });
      // The look-alike index of these embeddings, built in the background (look-ups are exact until it is ready).
      similarIndexFor(s)?.catch(() => undefined);
      return result;
    },
    similar: (projectId, embedder, sampleId, k, opts) => similarSamples(stores.embeddings, projectId, state(projectId), embedder, sampleId, k, opts),
    close: async () => undefined,
  };
}
