// Agreement between labelers on samples labeled by more than one of them (projects with overlap > 1, or
// re-labels by a second person): per pair of labelers, how often their top classes match, and overall.

import { topClass } from './labels.js';
import type { Annotation } from './model.js';
import type { Stores } from './ports.js';
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

export interface Agreement {
  /** Samples with labels from at least two labelers. */
  samples: number;
  /** Share of those where every labeler chose the same top class. */
  unanimous: number | null;
  pairs: { a: string; b: string; shared: number; agreement: number }[];
}

export async function projectAgreement(stores: Stores, projectId: string): Promise<Agreement> {
  await getProject(stores, projectId);
  const bySample = new Map<string, Annotation[]>();
  let cursor: string | undefined;
  do {
    const page = await stores.annotations.listForProject(projectId, { cursor, limit: 1000 });
    for (const a of page.items) bySample.set(a.sampleId, [...(bySample.get(a.sampleId) ?? []), a]);
    cursor = page.cursor;
  } while (cursor);

  const pairCounts = new Map<string, { shared: number; same: number }>();
  let samples = 0;
  let unanimous = 0;
  for (const history of bySample.values()) {
    const labels = [...labelsInEffect(history)].map(([labeler, c]) => [labeler, topClass(c)] as const).sort();
    if (labels.length < 2) continue;
    samples++;
    if (labels.every(([, c]) => c === labels[0][1])) unanimous++;
    for (let i = 0; i < labels.length; i++) {
      for (let j = i + 1; j < labels.length; j++) {
        const key = `${labels[i][0]}\u0000${labels[j][0]}`;
        const count = pairCounts.get(key) ?? { shared: 0, same: 0 };
        count.shared++;
        if (labels[i][1] === labels[j][1]) count.same++;
        pairCounts.set(key, count);
      }
    }
  }
  const pairs = [...pairCounts].map(([key, c]) => {
    const [a, b] = key.split('\u0000');
    return { a, b, shared: c.shared, agreement: c.same / c.shared };
  });
  return { samples, unanimous: samples ? unanimous / samples : null, pairs };
}
