// Ranking before a model exists (no labels, or labels of one class only): representative samples from every region
// of the pool. Clusters without labels come first, larger ones first; each gives its most central member per round.

import type { Embeddings } from './embeddings.js';
import { assignRows, type Clustering } from './kmeans.js';

/** Rows in cold-start order: round-robin over clusters, most typical unlabeled member of each per round. */
export function coldStartOrder(e: Embeddings, clustering: Clustering, labeled: ArrayLike<number>, limit: number): { rows: Int32Array; scores: Float32Array } {
  const { k } = clustering;
  const labeledSet = new Set(Array.from(labeled));
  const labeledPerCluster = new Int32Array(k);
  for (const c of assignRows(e, clustering, Array.from(labeledSet))) labeledPerCluster[c]++;
  const members: number[][] = Array.from({ length: k }, () => []);
  clustering.rows.forEach((row, i) => {
    if (!labeledSet.has(row)) members[clustering.assignment[i]].push(i);
  });
  for (const list of members) list.sort((a, b) => clustering.similarity[b] - clustering.similarity[a] || a - b);
  const order = [...members.keys()].sort(
    (a, b) => labeledPerCluster[a] - labeledPerCluster[b] || clustering.sizes[b] - clustering.sizes[a] || a - b,
  );
  return roundRobin(
    order.map((c) => members[c].map((i) => clustering.rows[i])),
    order.map((c) => members[c].map((i) => clustering.similarity[i])),
    limit,
  );
}

/** Takes the first of each list in turn, then the second of each, ... until `limit` items. */
export function roundRobin(lists: number[][], scores: number[][], limit: number): { rows: Int32Array; scores: Float32Array } {
  const rows: number[] = [];
  const out: number[] = [];
  for (let r = 0; rows.length < limit; r++) {
    let any = false;
    for (let l = 0; l < lists.length && rows.length < limit; l++) {
      if (r < lists[l].length) {
        rows.push(lists[l][r]);
        out.push(scores[l][r]);
        any = true;
      }
    }
    if (!any) break;
  }
  return { rows: Int32Array.from(rows), scores: Float32Array.from(out) };
}
