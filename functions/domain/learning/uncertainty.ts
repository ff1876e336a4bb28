// Per-sample informativeness from the model's probabilities (higher = ask a labeler sooner).

/** 1 - (p1 - p2): 1 on the decision boundary, 0 when one class has all the mass. */
export function marginUncertainty(probs: Float32Array, C: number, out = new Float32Array(probs.length / C)): Float32Array {
  for (let i = 0, o = 0; o < probs.length; i++, o += C) {
    let p1 = -1;
    let p2 = -1;
    for (let j = 0; j < C; j++) {
      const p = probs[o + j];
      if (p > p1) {
        p2 = p1;
        p1 = p;
      } else if (p > p2) p2 = p;
    }
    out[i] = 1 - (p1 - p2);
  }
  return out;
}

/** Shannon entropy of the class distribution (nats). */
export function entropyUncertainty(probs: Float32Array, C: number, out = new Float32Array(probs.length / C)): Float32Array {
  for (let i = 0, o = 0; o < probs.length; i++, o += C) {
    let h = 0;
    for (let j = 0; j < C; j++) {
      const p = probs[o + j];
      if (p > 0) h -= p * Math.log(p);
    }
    out[i] = h;
  }
  return out;
}

/**
 * The origin project's score s = (1 - p(c_max)) / (A(c_max) + 1), A(c) = annotations of class c so far:
 * uncertain samples first, and among those, ones the model places in classes that have few labels.
 */
export function originScore(
  probs: Float32Array,
  C: number,
  annotationsPerClass: ArrayLike<number>,
  out = new Float32Array(probs.length / C),
): Float32Array {
  for (let i = 0, o = 0; o < probs.length; i++, o += C) {
    let best = 0;
    for (let j = 1; j < C; j++) if (probs[o + j] > probs[o + best]) best = j;
    out[i] = (1 - probs[o + best]) / ((annotationsPerClass[best] ?? 0) + 1);
  }
  return out;
}
