// Limited-memory BFGS with a backtracking (Armijo) line search: full-batch, deterministic, and fast on the smooth,
// strongly convex softmax objective. Works on Float64Array parameter vectors.

export interface Objective {
  /** Writes the gradient at `x` into `grad` and returns the value. */
  (x: Float64Array, grad: Float64Array): number;
}

export interface LbfgsOptions {
  maxIterations: number;
  /** Stop when the gradient's max-norm falls below this. */
  gradientTolerance: number;
  /** Stop when the relative decrease of the value over one iteration falls below this. */
  relativeTolerance?: number;
  memory?: number;
}

export interface LbfgsResult {
  x: Float64Array;
  value: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

const maxAbs = (a: Float64Array) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
};

export function minimize(f: Objective, x0: Float64Array, opts: LbfgsOptions): LbfgsResult {
  const n = x0.length;
  const m = opts.memory ?? 10;
  const relTol = opts.relativeTolerance ?? 1e-9;
  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  let value = f(x, g);
  let evaluations = 1;
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(m);
  const dir = new Float64Array(n);
  const xNew = new Float64Array(n);
  let gNew = new Float64Array(n);
  let iterations = 0;
  let converged = maxAbs(g) < opts.gradientTolerance;

  while (!converged && iterations < opts.maxIterations) {
    // Two-loop recursion: dir = -H g.
    dir.set(g);
    for (let k = S.length - 1; k >= 0; k--) {
      alpha[k] = rho[k] * dot(S[k], dir);
      const y = Y[k];
      for (let i = 0; i < n; i++) dir[i] -= alpha[k] * y[i];
    }
    const gamma = S.length > 0 ? dot(S[S.length - 1], Y[Y.length - 1]) / dot(Y[Y.length - 1], Y[Y.length - 1]) : 1 / Math.max(1e-12, Math.sqrt(dot(g, g)));
    for (let i = 0; i < n; i++) dir[i] *= gamma;
    for (let k = 0; k < S.length; k++) {
      const beta = rho[k] * dot(Y[k], dir);
      const s = S[k];
      for (let i = 0; i < n; i++) dir[i] += s[i] * (alpha[k] - beta);
    }
    for (let i = 0; i < n; i++) dir[i] = -dir[i];
    let slope = dot(g, dir);
    if (slope >= 0) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      S.length = Y.length = rho.length = 0;
      for (let i = 0; i < n; i++) dir[i] = -g[i] / Math.max(1e-12, Math.sqrt(dot(g, g)));
      slope = dot(g, dir);
    }
    let step = 1;
    let newValue = Infinity;
    for (let tries = 0; tries < 40; tries++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i] + step * dir[i];
      newValue = f(xNew, gNew);
      evaluations++;
      if (newValue <= value + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    iterations++;
    if (!(newValue <= value)) break; // line search failed: keep the best point found
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i] - x[i];
      y[i] = gNew[i] - g[i];
    }
    const sy = dot(s, y);
    if (sy > 1e-12) {
      if (S.length === m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
    }
    const decrease = value - newValue;
    x = Float64Array.from(xNew);
    const swap = g;
    g = gNew;
    gNew = swap;
    value = newValue;
    converged = maxAbs(g) < opts.gradientTolerance || decrease <= relTol * Math.max(1, Math.abs(value));
  }
  return { x, value, iterations, evaluations, converged };
}
