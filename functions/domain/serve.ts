// Serving samples to a labeler: read the precomputed queue, take a lease with one conditional write per sample.
// Serving never waits on training or scans the project; it reads the head of the queue.

import type { Sample } from './model.js';
import type { Stores } from './ports.js';
import { getProject } from './projects.js';

export interface NextInput {
  projectId: string;
  labelerId: string;
  /** How many samples to lease (prefetch). */
  count: number;
  leaseMs: number;
}

const PAGE = 100;
const MAX_PAGES = 50;

export async function nextSamples(stores: Stores, input: NextInput): Promise<{ samples: Sample[]; done: boolean }> {
  await getProject(stores, input.projectId);
  const leased: Sample[] = [];
  let after: string | undefined;
  let sawCandidate = false;
  for (let page = 0; page < MAX_PAGES && leased.length < input.count; page++) {
    const candidates = await stores.samples.queue(input.projectId, { after, limit: PAGE });
    if (candidates.length === 0) break;
    after = candidates[candidates.length - 1].queueKey;
    for (const candidate of candidates) {
      if (leased.length >= input.count) break;
      if (candidate.labeledBy.includes(input.labelerId)) continue; // overlap: one label per labeler
      sawCandidate = true;
      const now = stores.clock.now();
      const held = candidate.lease;
      if (held && held.labelerId !== input.labelerId && held.until > now) continue;
      const sample = await stores.samples.lease(
        input.projectId,
        candidate.sampleId,
        { labelerId: input.labelerId, until: now + input.leaseMs },
        now,
      );
      if (sample) leased.push(sample);
    }
    if (candidates.length < PAGE) break;
  }
  // done = nothing left for this labeler at all (not merely everything leased to others right now).
  return { samples: leased, done: leased.length === 0 && !sawCandidate };
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
  const seen = new Set<string>();
  const unique = entries.filter((e) => !seen.has(e.sampleId) && seen.add(e.sampleId));
  const samples = await Promise.all(unique.map((e) => stores.samples.getSample(projectId, e.sampleId)));
  return samples.filter((s): s is Sample => s !== undefined);
}
