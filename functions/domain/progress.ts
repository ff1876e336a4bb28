// Project progress: how much is labeled, by class, by labeler.
// Reads every sample head once (paged); fine to ~100k samples. Counters maintained by the trainer replace this
// when projects grow past that (see the active-learning notes in README).

import { topClass } from './labels.js';
import type { Sample } from './model.js';
import type { Stores } from './ports.js';
import { getProject } from './projects.js';

export interface Progress {
  total: number;
  labeled: number;
  remaining: number;
  ambiguous: number;
  byClass: { name: string; count: number }[];
  labelers: { labelerId: string; total: number; today: number }[];
  me: { total: number; today: number };
  images: { pending: number; ready: number; failed: number };
}

export async function projectProgress(stores: Stores, projectId: string, labelerId: string): Promise<Progress> {
  const project = await getProject(stores, projectId);
  const byClass = project.classes.map((name) => ({ name, count: 0 }));
  let total = 0;
  let labeled = 0;
  let ambiguous = 0;
  for await (const sample of allSamples(stores, projectId)) {
    total++;
    if (sample.labeledBy.length >= project.overlap) labeled++;
    if (!sample.label) continue;
    if (sample.label.ambiguous) ambiguous++;
    const top = topClass(sample.label.confidences);
    if (top >= 0) byClass[top].count++;
  }
  const images = { pending: 0, ready: 0, failed: 0 };
  let cursor: string | undefined;
  do {
    const page = await stores.samples.listImages(projectId, { cursor, limit: 1000 });
    for (const image of page.items) images[image.status]++;
    cursor = page.cursor;
  } while (cursor);
  const today = new Date(stores.clock.now()).toISOString().slice(0, 10);
  const labelers = (await stores.labelers.list(projectId)).map((l) => ({
    labelerId: l.labelerId,
    total: l.total,
    today: l.perDay[today] ?? 0,
  }));
  const mine = labelers.find((l) => l.labelerId === labelerId);
  return {
    total,
    labeled,
    remaining: total - labeled,
    ambiguous,
    byClass,
    labelers,
    me: { total: mine?.total ?? 0, today: mine?.today ?? 0 },
    images,
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
