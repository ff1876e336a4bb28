// Serving samples to a labeler: read the trainer's precomputed ranking (or, before there is one, the upload-order
// queue) and take a lease with one conditional write per sample (lease-walk.ts). Serving never waits on training.

import { WinnowError } from '../errors.js';
import type { Project, RankedQueue, Sample } from '../model.js';
import type { Stores } from '../ports.js';
import { getProject } from '../projects.js';
import { requireSample } from '../annotate.js';
import { servingMemory } from './head-memory.js';
import { modelView, rankedProbs, Serving, type ServingRequest } from './lease-walk.js';

/** A next-sample request: which project, and the lease walk's request (lease-walk.ts). */
export interface NextInput extends ServingRequest {
  projectId: string;
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
  if (!serving.full()) await serving.fromDeferred();
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

/**
 * A labeler skips a sample they were served: their lease ends at once (the sample is free for everyone else), and it
 * is marked as skipped by them, so that their own next requests serve it only once nothing else is left for them.
 * Skipping a sample leased to someone else, or already labeled, is refused with the reason.
 */
export async function skipSample(stores: Stores, input: { projectId: string; sampleId: string; labelerId: string }): Promise<Sample> {
  const project = await getProject(stores, input.projectId);
  const sample = await requireSample(stores, project.id, input.sampleId);
  const now = stores.clock.now();
  if (!sample.queueKey || sample.labeledBy.includes(input.labelerId)) {
    throw new WinnowError('conflict', `sample "${input.sampleId}" needs no label from ${input.labelerId}: nothing to skip`);
  }
  const lease = sample.lease;
  if (lease && lease.labelerId !== input.labelerId && lease.until >= now) {
    throw new WinnowError('lease_conflict', `sample "${input.sampleId}" is leased to ${lease.labelerId}, not to ${input.labelerId}`, { leasedUntil: lease.until });
  }
  if (lease?.skipped && lease.labelerId === input.labelerId) return sample; // a retry
  const released = await stores.samples.lease(project.id, sample.sampleId, { labelerId: input.labelerId, until: now - 1, skipped: true }, now);
  if (!released) throw new WinnowError('lease_conflict', `sample "${input.sampleId}" was leased to someone else meanwhile`);
  servingMemory(stores.samples).learn(released, now);
  return released;
}

/** Samples as shown outside serving (history, one sample): with the current model's suggestion if it ranks them. */
export async function withModelViews(stores: Stores, projectId: string, samples: Sample[]): Promise<Sample[]> {
  if (samples.length === 0) return samples;
  const [project, ranking] = await Promise.all([getProject(stores, projectId), stores.rankings.get(projectId)]);
  return samples.map((s) => modelView(project, s, rankedProbs(ranking, s.sampleId)));
}
