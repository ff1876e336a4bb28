// Serving samples to a labeler: read the trainer's precomputed ranking (or, before there is one, the upload-order
// queue) and take a lease with one conditional write per sample (serving.ts). Serving never waits on training.

import type { Project, RankedQueue, Sample } from './model.js';
import type { Stores } from './ports.js';
import { getProject } from './projects.js';
import { Serving } from './serving.js';

export interface NextInput {
  projectId: string;
  labelerId: string;
  /** How many samples to lease (prefetch). */
  count: number;
  leaseMs: number;
  /** Samples not to serve this time (e.g. the ones the labeler was just given). */
  exclude?: ReadonlySet<string>;
}

export interface ModelState {
  state: 'untrained' | 'cold-start' | 'trained';
  message: string;
  generation?: number;
  labels?: number;
  strategy?: string;
}

export interface NextResult {
  samples: Sample[];
  done: boolean;
  model: ModelState;
}

export async function nextSamples(stores: Stores, input: NextInput): Promise<NextResult> {
  const project = await getProject(stores, input.projectId);
  const ranking = await stores.rankings.get(project.id);
  const serving = new Serving(stores, project, input);
  if (ranking) await serving.fromRanking(ranking);
  if (!serving.full()) await serving.fromQueue();
  // done = nothing left for this labeler at all (not merely everything leased to others right now).
  return { samples: serving.leased, done: serving.leased.length === 0 && !serving.sawCandidate, model: modelState(project, ranking) };
}

export function modelState(project: Project, ranking: RankedQueue | undefined): ModelState {
  if (!ranking) {
    return { state: 'untrained', message: 'model not trained yet: samples come in upload order until images are embedded' };
  }
  const base = { generation: ranking.generation, labels: ranking.labels, strategy: ranking.strategy };
  if (ranking.coldStart) {
    const why = project.classes.length < 2 ? 'a project with one class has nothing to learn' : 'labels of at least two classes are needed';
    return { ...base, state: 'cold-start', message: `model not trained yet (${why}): diverse, representative samples first` };
  }
  return { ...base, state: 'trained', message: `trained on ${ranking.labels} labels (${ranking.strategy})` };
}

/** The labeler's most recent labels, oldest first, as samples (for walking back with Left/Right). */
export async function labelerHistory(
  stores: Stores,
  projectId: string,
  labelerId: string,
  limit: number,
): Promise<Sample[]> {
  const labeler = await stores.labelers.get(projectId, labelerId);
  const entries = (labeler?.recent ?? []).slice(-limit);
  const latest = new Map<string, number>();
  entries.forEach((e, i) => latest.set(e.sampleId, i));
  const ids = entries.filter((e, i) => latest.get(e.sampleId) === i).map((e) => e.sampleId);
  return stores.samples.getSamples(projectId, ids);
}
