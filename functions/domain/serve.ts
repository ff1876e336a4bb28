// Serving samples to a labeler: read the trainer's precomputed ranking (or, before there is one, the upload-order
// queue) and take a lease with one conditional write per sample. Serving never waits on training.

import type { Lease, Project, RankedQueue, Sample, Suggestion } from './model.js';
import type { Stores } from './ports.js';
import { getProject } from './projects.js';

export interface NextInput {
  projectId: string;
  labelerId: string;
  /** How many samples to lease (prefetch). */
  count: number;
  leaseMs: number;
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

const PAGE = 100;
const MAX_PAGES = 50;

export async function nextSamples(stores: Stores, input: NextInput): Promise<NextResult> {
  const project = await getProject(stores, input.projectId);
  const ranking = await stores.rankings.get(project.id);
  const leased: Sample[] = [];
  const tried = new Set<string>();
  let sawCandidate = false;

  /** Whether this labeler may be given the candidate now (it needs labels, not from them, and is not held). */
  const eligible = (candidate: Sample) => {
    tried.add(candidate.sampleId);
    if (!candidate.queueKey || candidate.labeledBy.includes(input.labelerId)) return false; // done, or mine already
    sawCandidate = true;
    const held = candidate.lease;
    return !(held && held.labelerId !== input.labelerId && held.until > stores.clock.now());
  };
  const take = async (candidate: Sample, probs?: Float32Array) => {
    const now = stores.clock.now();
    const lease: Lease = { labelerId: input.labelerId, until: now + input.leaseMs, ...(probs ? { probs: Array.from(probs, round4) } : {}) };
    const sample = await stores.samples.lease(project.id, candidate.sampleId, lease, now);
    if (sample) leased.push(withSuggestion(project, sample, probs));
    return sample !== undefined;
  };

  if (ranking) {
    for (let start = 0; start < ranking.sampleIds.length && leased.length < input.count; start += PAGE) {
      const ids = ranking.sampleIds.slice(start, start + PAGE);
      const heads = await stores.samples.getSamples(project.id, ids);
      const position = new Map(ids.map((id, i) => [id, start + i]));
      const free = heads.filter(eligible);
      await leaseSpread(free, input.count - leased.length, (c) => take(c, probsOf(ranking, position.get(c.sampleId)!)));
    }
  }
  // Before the first ranking, and after it runs dry: upload order.
  let after: string | undefined;
  for (let page = 0; page < MAX_PAGES && leased.length < input.count; page++) {
    const candidates = await stores.samples.queue(project.id, { after, limit: PAGE });
    if (candidates.length === 0) break;
    after = candidates[candidates.length - 1].queueKey;
    const free = candidates.filter((c) => !tried.has(c.sampleId) && eligible(c));
    await leaseSpread(free, input.count - leased.length, (c) => take(c));
    if (candidates.length < PAGE) break;
  }
  // done = nothing left for this labeler at all (not merely everything leased to others right now).
  return { samples: leased, done: leased.length === 0 && !sawCandidate, model: modelState(project, ranking) };
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

/** Largest random jump (in candidates) after lost races. */
const MAX_STRIDE = 32;

/**
 * Leases up to `want` of `candidates`, best first. Labelers asking at the same moment read the same candidates;
 * walking them in the same order, each would lose the race for every sample another had just taken (n^2 failed
 * conditional writes for n labelers). So after each lost race, jump ahead a random stride that doubles with every
 * loss, and come back for the skipped candidates if still short. Without a race nothing changes: a labeler gets
 * exactly the best free samples.
 */
export async function leaseSpread<T>(candidates: T[], want: number, take: (candidate: T) => Promise<boolean>): Promise<number> {
  let got = 0;
  let losses = 0;
  const skipped: T[] = [];
  for (let i = 0; i < candidates.length && got < want; ) {
    if (await take(candidates[i++])) {
      got++;
      continue;
    }
    losses++;
    const stride = Math.floor(Math.random() * Math.min(2 ** losses, MAX_STRIDE));
    skipped.push(...candidates.slice(i, i + stride));
    i += stride;
  }
  for (const candidate of skipped) {
    if (got >= want) break;
    if (await take(candidate)) got++;
  }
  return got;
}

function probsOf(ranking: RankedQueue, position: number): Float32Array | undefined {
  if (!ranking.probs) return undefined;
  return ranking.probs.subarray(position * ranking.classes, (position + 1) * ranking.classes);
}

/** The model's best guess among the project's classes goes first, ahead of the ingest-time tags. */
function withSuggestion(project: Project, sample: Sample, probs?: Float32Array): Sample {
  if (!probs || probs.length !== project.classes.length) return sample;
  let best = 0;
  for (let c = 1; c < probs.length; c++) if (probs[c] > probs[best]) best = c;
  const suggestion: Suggestion = { classIndex: best, name: project.classes[best], probability: round4(probs[best]) };
  return { ...sample, suggestions: [suggestion, ...(sample.suggestions ?? []).filter((s) => s.classIndex !== best)] };
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

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
