// Project counts for the progress view, kept per process. Every labeler's web app asks for progress after its saves
// (about once a second while labeling), and counting means reading every sample head, image record and labeler:
// 50 labelers would mean 50 full reads per second. So each process counts once, moves its counts with every label
// change it makes itself (applyToHead reports them, so they are exact at once), and counts again in the background
// every REFRESH_MS (longer for large projects) to take in what other processes did (ingest, other API instances).

import { topClass } from './labels.js';
import type { Labeler, Project, Sample } from './model.js';
import type { Stores } from './ports.js';

/** How often the counts are rebuilt from the store at the least; at most ~1/10 of the time goes to counting. */
const REFRESH_MS = 2000;
const REFRESH_SHARE = 10;

export interface Counts {
  total: number;
  labeled: number;
  ambiguous: number;
  /** Per class index. */
  byClass: number[];
  images: { pending: number; ready: number; failed: number };
  labelers: { labelerId: string; total: number; perDay: Record<string, number> }[];
}

interface Tally {
  counts: Counts;
  projectVersion: number;
  builtAt: number;
  buildMs: number;
}

interface Change {
  before: Sample;
  after: Sample;
}

interface ProjectSlot {
  tally?: Tally;
  building?: Promise<Tally>;
  /** Label changes made while a build is reading (it may or may not have seen them). */
  duringBuild?: Change[];
}

export class ProgressTally {
  private readonly slots = new Map<string, ProjectSlot>();

  /** The project's counts: current up to this process's own writes, others' within the refresh interval. */
  async counts(stores: Stores, project: Project): Promise<Counts> {
    const slot = this.slot(project.id);
    const tally = slot.tally;
    if (!tally || tally.projectVersion !== project.version) return (await this.build(stores, project, slot)).counts;
    const age = stores.clock.now() - tally.builtAt;
    if (age > Math.max(REFRESH_MS, REFRESH_SHARE * tally.buildMs)) {
      // Answer now, refresh behind: a progress view can show counts a moment old.
      void this.build(stores, project, slot).catch(() => undefined);
    }
    return tally.counts;
  }

  /** A label write of this process moved a sample head from `before` to `after`. */
  labelChanged(project: Project, before: Sample, after: Sample): void {
    const slot = this.slots.get(project.id);
    if (!slot) return;
    slot.duringBuild?.push({ before, after });
    if (slot.tally && slot.tally.projectVersion === project.version) apply(slot.tally.counts, project, { before, after });
  }

  private build(stores: Stores, project: Project, slot: ProjectSlot): Promise<Tally> {
    slot.building ??= (async () => {
      slot.duringBuild = [];
      try {
        const started = performance.now();
        const builtAt = stores.clock.now();
        const { counts, versions } = await countAll(stores, project);
        // Changes made while counting: apply those the reads did not see yet (the sample's version tells).
        for (const change of slot.duringBuild) {
          if ((versions.get(change.after.sampleId) ?? -1) < change.after.version) apply(counts, project, change);
        }
        const tally = { counts, projectVersion: project.version, builtAt, buildMs: performance.now() - started };
        slot.tally = tally;
        return tally;
      } finally {
        slot.building = undefined;
        slot.duringBuild = undefined;
      }
    })();
    return slot.building;
  }

  private slot(projectId: string): ProjectSlot {
    let slot = this.slots.get(projectId);
    if (!slot) this.slots.set(projectId, (slot = {}));
    return slot;
  }
}

function apply(counts: Counts, project: Project, { before, after }: Change): void {
  const done = (s: Sample) => (s.labeledBy.length >= project.overlap ? 1 : 0);
  counts.labeled += done(after) - done(before);
  counts.ambiguous += (after.label?.ambiguous ? 1 : 0) - (before.label?.ambiguous ? 1 : 0);
  const classOf = (s: Sample) => (s.label ? topClass(s.label.confidences) : -1);
  if (classOf(before) >= 0) counts.byClass[classOf(before)]--;
  if (classOf(after) >= 0) counts.byClass[classOf(after)]++;
}

/** One full read of the project: every sample head, image record and labeler. */
async function countAll(stores: Stores, project: Project): Promise<{ counts: Counts; versions: Map<string, number> }> {
  const counts: Counts = { total: 0, labeled: 0, ambiguous: 0, byClass: project.classes.map(() => 0), images: { pending: 0, ready: 0, failed: 0 }, labelers: [] };
  const versions = new Map<string, number>();
  let cursor: string | undefined;
  do {
    const page = await stores.samples.listSamples(project.id, { cursor, limit: 1000 });
    for (const sample of page.items) {
      versions.set(sample.sampleId, sample.version);
      counts.total++;
      apply(counts, project, { before: { ...sample, labeledBy: [], label: undefined }, after: sample });
    }
    cursor = page.cursor;
  } while (cursor);
  cursor = undefined;
  do {
    const page = await stores.samples.listImages(project.id, { cursor, limit: 1000 });
    for (const image of page.items) counts.images[image.status]++;
    cursor = page.cursor;
  } while (cursor);
  counts.labelers = (await stores.labelers.list(project.id)).map((l) => ({ labelerId: l.labelerId, total: distinctTotal(l), perDay: l.perDay }));
  return { counts, versions };
}

const tallies = new WeakMap<object, ProgressTally>();

/** The counts of the process that owns this sample store (see servingMemory for why per store). */
export function progressTally(samples: object): ProgressTally {
  let tally = tallies.get(samples);
  if (!tally) tallies.set(samples, (tally = new ProgressTally()));
  return tally;
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
