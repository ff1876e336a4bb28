// The trainer's first read of a project's labels: the label head of every labeled sample, in the order of the sample
// keys (the order a read of every sample head gives, which the training set and so the ranking follow).
// Every label a head carries was written after its annotation record (annotate, undo, auto-label, import), so the
// samples with a label are among those the project's annotations name: reading the annotations (the byProject index)
// and then only those heads costs the labels, not the project's size. A project where most samples are labeled is
// read by listing every head instead (fewer items than annotations plus heads).

import type { LabelHead, Sample } from './model.js';
import type { SampleCounts, Stores } from './ports.js';
import { allSamples } from './progress.js';
import { TALLY } from './quality-tally.js';

/** Heads fetched per request (the stores page batch reads themselves; this bounds the memory between them). */
const HEADS_PER_READ = 1000;

export interface LabeledHeads {
  labels: Map<string, LabelHead>;
  /** The labeled samples that were served as audit draws (`auditDrawOf`). */
  auditDraws: Set<string>;
  /** False when the project's counts predate the quality sums: its heads' tallies cannot say which were audit draws. */
  drawsKnown: boolean;
  /** How they were found: through the annotations, or by reading every sample head. */
  via: 'annotations' | 'every-head';
}

/**
 * Whether a sample was served to a labeler as an audit draw (learning/audit.ts): its head's quality sums
 * (quality-tally.ts) count an audited label point. A uniform random draw stays one whoever labels the sample later;
 * a label an owner gave in the gallery, or one active learning served before the audit rate changed, never was one.
 */
export const auditDrawOf = (sample: Pick<Sample, 'liveTally'>): boolean => (sample.liveTally?.[TALLY.audited] ?? 0) > 0;

export async function labeledHeads(stores: Stores, projectId: string): Promise<LabeledHeads> {
  const { samples, via, counts } = await labeledSamples(stores, projectId);
  const auditDraws = new Set([...samples.values()].filter(auditDrawOf).map((s) => s.sampleId));
  return { labels: new Map([...samples].map(([id, s]) => [id, s.label!])), auditDraws, drawsKnown: counts.qualityKept !== false, via };
}

/** The whole head of every labeled sample (what the gallery's sorted listings need), in the tables' key order. */
/** `known`: the project's counts when the caller has just read them. */
export async function labeledSamples(
  stores: Stores,
  projectId: string,
  known?: SampleCounts,
): Promise<{ samples: Map<string, Sample>; via: LabeledHeads['via']; counts: SampleCounts }> {
  const counts = known ?? (await stores.samples.counts(projectId));
  const labeled = counts.samples - (counts.byDepth[0] ?? 0);
  // Unsure counts (a writer died) still choose well enough: either way reads every labeled head.
  if (labeled * 4 > counts.samples) return { samples: await everyHead(stores, projectId), via: 'every-head', counts };
  const ids = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await stores.annotations.listForProject(projectId, { cursor, limit: 1000 });
    for (const a of page.items) ids.add(a.sampleId);
    cursor = page.cursor;
  } while (cursor);
  const sorted = [...ids].sort(compareCodePoints);
  const samples = new Map<string, Sample>();
  for (let i = 0; i < sorted.length; i += HEADS_PER_READ) {
    for (const sample of await stores.samples.getSamples(projectId, sorted.slice(i, i + HEADS_PER_READ))) {
      if (sample.label) samples.set(sample.sampleId, sample);
    }
  }
  // getSamples answers in the order asked, but say it here rather than rely on it.
  return { samples: new Map([...samples].sort(([a], [b]) => compareCodePoints(a, b))), via: 'annotations', counts };
}

async function everyHead(stores: Stores, projectId: string): Promise<Map<string, Sample>> {
  const samples = new Map<string, Sample>();
  for await (const sample of allSamples(stores, projectId)) if (sample.label) samples.set(sample.sampleId, sample);
  return samples;
}

/** The tables' key order (UTF-8 bytes), which is Unicode code point order; JavaScript's `<` compares UTF-16 units. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}
