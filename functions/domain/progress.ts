// Project progress: how much is labeled, by class, by labeler. The project-wide counts are the sample store's
// counters (progress-tally.ts: one read at any project size, exact after every write); labelers' own tallies are
// read with them.

import type { Sample } from './model.js';
import type { Stores } from './ports.js';
import { getProject } from './projects.js';
import { distinctTotal, projectCounts } from './progress-tally.js';

export interface Progress {
  total: number;
  labeled: number;
  remaining: number;
  ambiguous: number;
  byClass: { name: string; count: number }[];
  labelers: { labelerId: string; total: number; today: number }[];
  me: { total: number; today: number };
  images: { pending: number; ready: number; failed: number };
  /** The counts are being rebuilt after a writer died mid-count (they may be off until it finishes). */
  repairing?: boolean;
}

export async function projectProgress(stores: Stores, projectId: string, labelerId: string): Promise<Progress> {
  const project = await getProject(stores, projectId);
  const [counts, mine] = await Promise.all([projectCounts(stores, project), stores.labelers.get(projectId, labelerId)]);
  const today = new Date(stores.clock.now()).toISOString().slice(0, 10);
  const labelers = counts.labelers
    .filter((l) => l.labelerId !== labelerId)
    .concat(mine ? [{ ...mine, total: distinctTotal(mine) }] : [])
    // Today counts label writes (the record keeps no dates per sample): never more than the samples labeled.
    .map((l) => ({ labelerId: l.labelerId, total: l.total, today: Math.min(l.perDay[today] ?? 0, l.total) }))
    .sort((x, y) => (x.labelerId < y.labelerId ? -1 : x.labelerId > y.labelerId ? 1 : 0));
  const me = labelers.find((l) => l.labelerId === labelerId);
  return {
    total: counts.total,
    labeled: counts.labeled,
    remaining: counts.total - counts.labeled,
    ambiguous: counts.ambiguous,
    byClass: project.classes.map((name, i) => ({ name, count: counts.byClass[i] ?? 0 })),
    labelers,
    me: { total: me?.total ?? 0, today: me?.today ?? 0 },
    images: { ...counts.images },
    ...(counts.repairing ? { repairing: true } : {}),
  };
}

export async function* allSamples(stores: Stores, projectId: string): AsyncGenerator<Sample> {
  let cursor: string | undefined;
  do {
    const page = await stores.samples.listSamples(projectId, { cursor, limit: 1000 });
    yield* page.items;
    cursor = page.cursor;
  } while (cursor);
}
