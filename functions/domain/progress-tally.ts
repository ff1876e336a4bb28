// Project counts for the progress view and the quality estimate. Every labeler's web app asks for progress after its
// saves (about once a second while labeling), so the counts must not cost a read of the project: the sample store
// keeps them as it writes (SampleStore.counts, one read at any size) and they are exact at once, whichever process
// wrote. When the store finds that a writer died between a write and its count, the counts are rebuilt from every
// record (SampleStore.recount) in the background, once per process at a time, and the answer says so meanwhile.

import type { Labeler, Project } from './model.js';
import type { Log, SampleCounts, Stores } from './ports.js';

export interface Counts {
  total: number;
  labeled: number;
  ambiguous: number;
  /** Per class index. */
  byClass: number[];
  images: { pending: number; ready: number; failed: number };
  labelers: { labelerId: string; total: number; perDay: Record<string, number> }[];
  /** The store found a count left unfinished by a writer that died; a recount is under way. */
  repairing: boolean;
}

/** The project's counts: the store's counters plus the labelers' own tallies. */
export async function projectCounts(stores: Stores, project: Project, opts: { labelers?: boolean } = {}): Promise<Counts> {
  const [kept, labelers] = await Promise.all([
    stores.samples.counts(project.id),
    opts.labelers === false ? Promise.resolve([] as Labeler[]) : stores.labelers.list(project.id),
  ]);
  if (kept.repairNeeded) void repairCounts(stores, project.id).catch(() => undefined);
  return {
    ...fromSampleCounts(project, kept),
    labelers: labelers.map((l) => ({ labelerId: l.labelerId, total: distinctTotal(l), perDay: l.perDay })),
  };
}

/** Labeled = samples with at least `overlap` labelers' labels in effect. */
export function fromSampleCounts(project: Project, kept: SampleCounts): Omit<Counts, 'labelers'> {
  const labeled = kept.byDepth.reduce((sum, n, depth) => (depth >= project.overlap ? sum + n : sum), 0);
  return {
    total: kept.samples,
    labeled,
    ambiguous: kept.ambiguous,
    byClass: project.classes.map((_, i) => kept.byClass[i] ?? 0),
    images: { ...kept.images },
    repairing: kept.repairNeeded === true,
  };
}

const repairs = new WeakMap<object, Map<string, Promise<SampleCounts>>>();

/** Rebuilds the project's counts from every record; one rebuild per project and store at a time. */
export function repairCounts(stores: Stores, projectId: string): Promise<SampleCounts> {
  let running = repairs.get(stores.samples);
  if (!running) repairs.set(stores.samples, (running = new Map()));
  let repair = running.get(projectId);
  if (!repair) {
    repair = stores.samples.recount(projectId).finally(() => running.delete(projectId));
    running.set(projectId, repair);
  }
  return repair;
}

/** The projects whose counts a writer left unfinished (at a restart: adapters/aws/project-counter.ts), with their size. */
export async function unfinishedCounts(stores: Stores): Promise<{ projectId: string; samples: number }[]> {
  const found: { projectId: string; samples: number }[] = [];
  for (const project of await stores.projects.list()) {
    const counts = await stores.samples.counts(project.id);
    if (counts.repairNeeded) found.push({ projectId: project.id, samples: counts.samples });
  }
  return found;
}

/** Rebuilds these projects' counts from every record, one after another. */
export async function repairCountsOf(stores: Stores, projectIds: string[], log: Log): Promise<void> {
  for (const projectId of projectIds) {
    await repairCounts(stores, projectId);
    log(`counts: rebuilt for ${projectId} (left unfinished by the last stop)`);
  }
}

/**
 * How many samples a labeler labeled, a re-label counted once (as the project's "labeled" counts samples): the
 * label writes minus the repeats among their recent writes (the bounded list undo works on), so it is exact while
 * a labeler re-labels within their last RECENT_LIMIT labels, which walking back through history always is.
 */
export function distinctTotal(labeler: Pick<Labeler, 'total' | 'recent'>): number {
  const repeats = labeler.recent.length - new Set(labeler.recent.map((e) => e.sampleId)).size;
  return Math.max(0, labeler.total - repeats);
}
