// Agreement between labelers on samples labeled by more than one of them (projects with overlap > 1, or
// re-labels by a second person): per pair of labelers, how often their top classes match, and overall.
// Each sample head keeps its labelers' classes in effect (SampleLabelState.inEffect, moved by every label, undo and
// deletion exactly as replaying the sample's history would), and the sample store counts agreement from the heads
// with its other counts: the answer is one read, whatever the project's size.

import { topClass } from './label-validation.js';
import type { Annotation, SampleLabelState } from './model.js';
import type { Stores } from './ports.js';
import { repairCounts } from './progress-tally.js';
import { getProject } from './projects.js';

/** Each labeler's label in effect on one sample, after replaying its history (undo restores earlier labels). */
export function labelsInEffect(history: Annotation[]): Map<string, number[]> {
  const byVersion = new Map(history.map((a) => [a.version, a]));
  const stacks = new Map<string, Annotation[]>();
  for (const a of [...history].sort((x, y) => x.version - y.version)) {
    if (a.kind === 'label') {
      stacks.set(a.labelerId, [...(stacks.get(a.labelerId) ?? []), a]);
    } else if (a.undoes !== undefined) {
      const undone = byVersion.get(a.undoes);
      if (undone) stacks.set(undone.labelerId, (stacks.get(undone.labelerId) ?? []).filter((x) => x.version !== undone.version));
    }
  }
  const out = new Map<string, number[]>();
  for (const [labeler, stack] of stacks) {
    const last = stack[stack.length - 1];
    if (last && !last.ambiguous) out.set(labeler, last.confidences);
  }
  return out;
}

/**
 * True when two or more labelers' classes are in effect and they differ; with `between`, those two labelers' classes
 * (both in effect); with `classIndex`, a split where one of them chose that class (what the per-class figure counts).
 */
export function labelersSplit(inEffect: Record<string, number>, between?: [string, string], classIndex?: number): boolean {
  const classes = between ? between.map((id) => inEffect[id]) : Object.values(inEffect);
  if (classes.some((c) => c === undefined) || new Set(classes).size < 2) return false;
  return classIndex === undefined || classes.includes(classIndex);
}

/** Each labeler's top class in effect on a sample in this state (ambiguous labels and labels without a class left out). */
export function classesInEffect(state: SampleLabelState): Record<string, number> {
  if (state.inEffect) return state.inEffect;
  const label = state.label;
  // One labeler: their label is the head.
  if (state.labeledBy.length !== 1 || !label || label.ambiguous || label.labelerId !== state.labeledBy[0]) return {};
  const c = topClass(label.confidences);
  return c >= 0 ? { [label.labelerId]: c } : {};
}

/** The classes in effect after label `a` (the labeler's class replaced), kept once two or more labelers labeled. */
export function inEffectAfter(before: SampleLabelState, a: Annotation, labeledBy: string[]): Pick<SampleLabelState, 'inEffect'> {
  if (labeledBy.length < 2) return {};
  const classes = { ...classesInEffect(before) };
  const c = topClass(a.confidences);
  if (a.ambiguous || c < 0) delete classes[a.labelerId];
  else classes[a.labelerId] = c;
  return { inEffect: classes };
}

export interface Agreement {
  /** Samples with labels from at least two labelers. */
  samples: number;
  /** Share of those where every labeler chose the same top class. */
  unanimous: number | null;
  /** Per pair of labelers: samples both labeled, the share where they chose the same class, and how many they did not. */
  pairs: { a: string; b: string; shared: number; agreement: number; disagree: number }[];
  /** Per class: samples (of those) where some labeler chose it, the share where every labeler did, how many split. */
  classes: { classIndex: number; class: string; samples: number; agreement: number | null; disagree: number }[];
  /** The counts are being rebuilt (kept before the per-class counts existed, or left unfinished by a dead writer). */
  repairing?: true;
}

/** From the sample store's counts (one read). */
export async function projectAgreement(stores: Stores, projectId: string): Promise<Agreement> {
  const project = await getProject(stores, projectId);
  const kept = await stores.samples.counts(projectId);
  const { agreement } = kept;
  // Every sample two labelers labeled counts for at least one class: fewer means counts kept before the per-class
  // ones existed, which a recount from every record brings in (in the background; the figures say so meanwhile).
  const perClass = (agreement.byClass ?? []).reduce((n, c) => n + c.samples, 0);
  const repairing = kept.repairNeeded === true || perClass < agreement.samples;
  if (repairing) void repairCounts(stores, projectId).catch(() => undefined);
  return {
    ...(repairing ? { repairing: true as const } : {}),
    samples: agreement.samples,
    unanimous: agreement.samples ? agreement.unanimous / agreement.samples : null,
    pairs: agreement.pairs
      .filter((p) => p.shared > 0)
      .map((p) => ({ a: p.a, b: p.b, shared: p.shared, agreement: p.same / p.shared, disagree: p.shared - p.same })),
    classes: project.classes.map((name, classIndex) => {
      const c = agreement.byClass?.[classIndex] ?? { samples: 0, unanimous: 0 };
      return { classIndex, class: name, samples: c.samples, agreement: c.samples ? c.unanimous / c.samples : null, disagree: c.samples - c.unanimous };
    }),
  };
}
