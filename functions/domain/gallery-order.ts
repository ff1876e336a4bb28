// What the gallery keeps per ranking: a 1M-sample ranking is read once per retrain, but every gallery request needs to
// find a sample's row (the model's view of it) and the sorted listings need the rows in order of the model's top
// probability. Both are built once per ranking (one entry per project, replaced when a new generation arrives) instead
// of once per request: at 1M samples a Map of the rows costs ~0.3 s and the ordering ~1 s to build.

import { topClass } from './label-validation.js';
import type { RankedQueue } from './model.js';

export interface RankedRows {
  sampleIds: string[];
  /** Row of each ranked sample (only rankings with probabilities). */
  rowOf: Map<string, number>;
  /** The model's top probability per row, as the gallery shows it: rounded to 4 decimals, times 10^4 (NO_VIEW: none). */
  key: Uint16Array;
  /** Rows with a view by (top probability ascending, sample id ascending); built on first use. */
  ascending(): Uint32Array;
  /** Rows with a view by (top probability descending, sample id ascending); built on first use. */
  descending(): Uint32Array;
}

const KEYS = 10_001;
/** A row whose probabilities name no class (all zero): the gallery shows no model view for it. */
export const NO_VIEW = 0xffff;
/** Projects whose rows are kept (each entry is a few bytes per ranked sample). */
const KEEP = 8;
const cache = new Map<string, { ranking: RankedQueue; rows: RankedRows }>();

/** The ranking's rows, from the cache when the same ranking (same generation and creation) was seen last. */
export function rankedRows(ranking: RankedQueue | undefined): RankedRows {
  if (!ranking?.probs || ranking.sampleIds.length === 0) return EMPTY;
  const kept = cache.get(ranking.projectId);
  if (kept && (kept.ranking === ranking || (kept.ranking.generation === ranking.generation && kept.ranking.createdAt === ranking.createdAt))) {
    return kept.rows;
  }
  const rows = build(ranking);
  cache.delete(ranking.projectId);
  cache.set(ranking.projectId, { ranking, rows });
  if (cache.size > KEEP) cache.delete(cache.keys().next().value!);
  return rows;
}

function build(ranking: RankedQueue): RankedRows {
  const { sampleIds, classes } = ranking;
  const probs = ranking.probs!;
  const n = sampleIds.length;
  const rowOf = new Map<string, number>();
  const key = new Uint16Array(n);
  for (let r = 0; r < n; r++) {
    rowOf.set(sampleIds[r], r);
    const row = probs.subarray(r * classes, r * classes + classes);
    const best = topClass(row);
    key[r] = best < 0 ? NO_VIEW : Math.round(row[best] * 1e4);
  }
  let asc: Uint32Array | undefined;
  let desc: Uint32Array | undefined;
  // Counting sort by key; within a key, sample ids in JavaScript string order (the listings' tie-break).
  const byKey = () => {
    const start = new Uint32Array(KEYS + 1);
    for (let r = 0; r < n; r++) if (key[r] !== NO_VIEW) start[key[r] + 1]++;
    for (let k = 0; k < KEYS; k++) start[k + 1] += start[k];
    const order = new Uint32Array(start[KEYS]);
    const fill = start.slice(0, KEYS);
    for (let r = 0; r < n; r++) if (key[r] !== NO_VIEW) order[fill[key[r]]++] = r;
    for (let k = 0; k < KEYS; k++) {
      if (start[k + 1] - start[k] > 1) {
        const run = Array.from(order.subarray(start[k], start[k + 1]));
        run.sort((a, b) => (sampleIds[a] < sampleIds[b] ? -1 : sampleIds[a] > sampleIds[b] ? 1 : 0));
        order.set(run, start[k]);
      }
    }
    return { order, start };
  };
  let runs: ReturnType<typeof byKey> | undefined;
  return {
    sampleIds,
    rowOf,
    key,
    ascending() {
      runs ??= byKey();
      return (asc ??= runs.order);
    },
    descending() {
      if (desc) return desc;
      runs ??= byKey();
      const { order, start } = runs;
      desc = new Uint32Array(order.length);
      let at = 0;
      for (let k = KEYS - 1; k >= 0; k--) {
        desc.set(order.subarray(start[k], start[k + 1]), at);
        at += start[k + 1] - start[k];
      }
      return desc;
    },
  };
}

const EMPTY: RankedRows = { sampleIds: [], rowOf: new Map(), key: new Uint16Array(0), ascending: () => new Uint32Array(0), descending: () => new Uint32Array(0) };
