// Top-k selection over a score array without sorting the whole pool (1M scores -> the best 2000 in one pass).

/**
 * Indices of the k highest scores, best first, ties -> lower index. Only `candidates` when given (a list of indices,
 * or a mask where nonzero = excluded); NaN scores are never selected.
 */
export function topK(scores: Float32Array | Float64Array, k: number, candidates?: ArrayLike<number> | { excluded: Uint8Array }): Int32Array {
  if (candidates && 'excluded' in candidates) return topKOf(scores, k, undefined, candidates.excluded);
  return topKOf(scores, k, candidates as ArrayLike<number> | undefined, undefined);
}

function topKOf(scores: Float32Array | Float64Array, k: number, candidates: ArrayLike<number> | undefined, excluded: Uint8Array | undefined): Int32Array {
  const n = candidates ? candidates.length : scores.length;
  const size = Math.min(k, n);
  // Min-heap of the current best `size`, worst at the root.
  const heap = new Int32Array(size);
  let count = 0;
  const worse = (a: number, b: number) => scores[a] < scores[b] || (scores[a] === scores[b] && a > b);
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let w = i;
      if (l < count && worse(heap[l], heap[w])) w = l;
      if (r < count && worse(heap[r], heap[w])) w = r;
      if (w === i) return;
      const t = heap[i];
      heap[i] = heap[w];
      heap[w] = t;
      i = w;
    }
  };
  for (let c = 0; c < n; c++) {
    const idx = candidates ? candidates[c] : c;
    if (Number.isNaN(scores[idx]) || (excluded && excluded[idx])) continue;
    if (count < size) {
      let i = count++;
      heap[i] = idx;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!worse(heap[i], heap[p])) break;
        const t = heap[i];
        heap[i] = heap[p];
        heap[p] = t;
        i = p;
      }
    } else if (size > 0 && worse(heap[0], idx)) {
      heap[0] = idx;
      siftDown(0);
    }
  }
  return heap.slice(0, count).sort((a, b) => (worse(a, b) ? 1 : worse(b, a) ? -1 : 0));
}
