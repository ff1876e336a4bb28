// After an API benchmark run: did any sample sit leased to two labelers at once, and (overlap 1) did any sample get
// more than one label? Lease windows come from what the server answered; labels from the annotation log itself.

import type { Annotation } from '../../../functions/domain/model.js';
import type { Stores } from '../../../functions/domain/ports.js';
import type { LeaseRecord } from './api-labelers.js';

export interface LeaseCheck {
  leases: number;
  distinctSamples: number;
  /** Samples served to more than one labeler during the run (allowed only after a lease expired). */
  servedToSeveral: number;
  /** Pairs of leases of one sample, held by different labelers, whose windows intersect. */
  overlaps: { sampleId: string; a: string; b: string }[];
}

/**
 * A lease window runs from when the server took it (`until - leaseMs`, same clock) to the label that ended it,
 * or to its expiry if it was never labeled in the run.
 */
export function checkLeases(leases: LeaseRecord[], leaseMs: number): LeaseCheck {
  const bySample = new Map<string, LeaseRecord[]>();
  for (const l of leases) bySample.set(l.sampleId, [...(bySample.get(l.sampleId) ?? []), l]);
  const overlaps: LeaseCheck['overlaps'] = [];
  let servedToSeveral = 0;
  for (const [sampleId, list] of bySample) {
    if (new Set(list.map((l) => l.labeler)).size > 1) servedToSeveral++;
    const windows = list.map((l) => ({ l, start: l.until - leaseMs, end: l.annotateStatus === 201 ? l.annotatedAt! : l.until }));
    for (let i = 0; i < windows.length; i++) {
      for (let j = i + 1; j < windows.length; j++) {
        const a = windows[i];
        const b = windows[j];
        if (a.l.labeler !== b.l.labeler && a.start < b.end && b.start < a.end) overlaps.push({ sampleId, a: a.l.labeler, b: b.l.labeler });
      }
    }
  }
  return { leases: leases.length, distinctSamples: bySample.size, servedToSeveral, overlaps };
}

export interface LabelCheck {
  labelAnnotations: number;
  labeledSamples: number;
  /** Samples with more than one label annotation (must be 0 with overlap 1). */
  samplesLabeledTwice: number;
  /** Stored labels by a labeler the benchmark never saw holding that sample's lease. */
  labelsWithoutLease: number;
  /**
   * Labels answered and logged that are not on their sample's head (read after the API's progress route, which waits
   * for every label still completing): must be 0. `progressLabeled` is what that route counted.
   */
  labelsNotOnHead: number;
  progressLabeled: number;
}

/** `progress`: the API's progress route (labeled samples), asked first: it answers once every label answered is complete. */
export async function checkLabels(stores: Stores, projectId: string, leases: LeaseRecord[], progress: () => Promise<number>): Promise<LabelCheck> {
  const progressLabeled = await progress();
  const holders = new Set(leases.map((l) => `${l.sampleId}|${l.labeler}`));
  const perSample = new Map<string, number>();
  const lastLabel = new Map<string, number>();
  let labelAnnotations = 0;
  let labelsWithoutLease = 0;
  for await (const a of allAnnotations(stores, projectId)) {
    if (a.kind !== 'label') continue;
    labelAnnotations++;
    perSample.set(a.sampleId, (perSample.get(a.sampleId) ?? 0) + 1);
    lastLabel.set(a.sampleId, Math.max(lastLabel.get(a.sampleId) ?? -1, a.version));
    if (!holders.has(`${a.sampleId}|${a.labelerId}`)) labelsWithoutLease++;
  }
  const samplesLabeledTwice = [...perSample.values()].filter((n) => n > 1).length;
  const heads = await stores.samples.getSamples(projectId, [...lastLabel.keys()]);
  const labelsNotOnHead = heads.filter((head) => !head.label || head.version <= lastLabel.get(head.sampleId)!).length;
  return { labelAnnotations, labeledSamples: perSample.size, samplesLabeledTwice, labelsWithoutLease, labelsNotOnHead, progressLabeled };
}

async function* allAnnotations(stores: Stores, projectId: string): AsyncGenerator<Annotation> {
  let cursor: string | undefined;
  do {
    const page = await stores.annotations.listForProject(projectId, { cursor, limit: 1000 });
    yield* page.items;
    cursor = page.cursor;
  } while (cursor);
}
