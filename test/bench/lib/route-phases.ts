// Where one route's time goes, request by request: wraps the methods a route calls (the trainer's look-up, store
// reads under the API's caches) and adds up, per request, the wall time each phase was in flight (calls of one phase
// that overlap count once; phases that overlap each other each count in full). What no phase covers is the route's
// own work: presigning, JSON, HTTP, the event loop.
// Requests must be made one at a time (a call is put on the request in flight).

import { summarize } from './latency.js';

type Target = [object, string];
/** Any phase in flight. */
const ANY = '\0any';

export interface PhaseRow {
  phase: string;
  p50: number;
  p99: number;
  /** Its share of the slowest requests' time (the ones at or above the route's p99). */
  tailShare: number;
}

export interface PhasedRequest {
  total: number;
  phases: Record<string, number>;
  /** Time some phase was in flight (phases side by side counted once). */
  covered: number;
}

export function routePhases(targets: Record<string, Target>) {
  const names = Object.keys(targets);
  let current: Map<string, number> | undefined;
  /** Per phase: calls in flight and when the first of them started. */
  const open = new Map<string, { n: number; since: number }>();
  const requests: { total: number; phases: Map<string, number> }[] = [];
  const restores: (() => void)[] = [];

  const enter = (phase: string) => {
    for (const p of [phase, ANY]) {
      const o = open.get(p) ?? { n: 0, since: 0 };
      if (o.n++ === 0) o.since = performance.now();
      open.set(p, o);
    }
  };
  const leave = (phase: string, into: Map<string, number> | undefined) => {
    for (const p of [phase, ANY]) {
      const o = open.get(p)!;
      if (--o.n === 0 && into) into.set(p, (into.get(p) ?? 0) + performance.now() - o.since);
    }
  };
  for (const [phase, [obj, method]] of Object.entries(targets)) {
    const o = obj as Record<string, unknown>;
    const own = Object.prototype.hasOwnProperty.call(o, method);
    const original = o[method] as (...a: unknown[]) => unknown;
    if (typeof original !== 'function') throw new Error(`route phases: ${method} is not a method`);
    o[method] = function (this: unknown, ...args: unknown[]) {
      const into = current;
      enter(phase);
      let result: unknown;
      try {
        result = original.apply(this, args);
      } catch (err) {
        leave(phase, into);
        throw err;
      }
      return Promise.resolve(result).finally(() => leave(phase, into));
    };
    restores.push(() => {
      if (own) o[method] = original;
      else delete o[method];
    });
  }

  return {
    begin: () => {
      current = new Map();
    },
    end: (totalMs: number) => {
      if (current) requests.push({ total: totalMs, phases: current });
      current = undefined;
    },
    restore: () => {
      for (const r of restores.splice(0)) r();
    },
    /** Every measured request: its time and each phase's. */
    requests: (): PhasedRequest[] =>
      requests.map((r) => ({
        total: r.total,
        phases: Object.fromEntries([...names.map((p) => [p, 0] as const), ...[...r.phases].filter(([p]) => p !== ANY)]),
        covered: r.phases.get(ANY) ?? 0,
      })),
  };
}

/** p50/p99 of each phase's time per request and its share of the slowest requests' time; `rest`: what no phase covers. */
export function summarizePhases(requests: PhasedRequest[]): PhaseRow[] {
  if (requests.length === 0) return [];
  // Nearest rank, unrounded (summarize rounds to 0.1 ms).
  const sorted = requests.map((r) => r.total).sort((a, b) => a - b);
  const p99 = sorted[Math.max(0, Math.ceil(0.99 * sorted.length) - 1)];
  const tail = requests.filter((r) => r.total >= p99);
  const tailTotal = tail.reduce((a, r) => a + r.total, 0);
  const of = (r: PhasedRequest, phase: string) => (phase === 'rest' ? Math.max(0, r.total - r.covered) : r.phases[phase]);
  return [...Object.keys(requests[0].phases), 'rest'].map((phase) => {
    const s = summarize(requests.map((r) => of(r, phase)));
    const share = tail.reduce((a, r) => a + of(r, phase), 0) / Math.max(tailTotal, 1e-9);
    return { phase, p50: s.p50, p99: s.p99, tailShare: Math.round(share * 100) / 100 };
  });
}

/** The slowest requests' times by phase, slowest first. */
export function slowestRequests(requests: PhasedRequest[], n: number): string[] {
  return [...requests]
    .sort((a, b) => b.total - a.total)
    .slice(0, n)
    .map((r) => `${r.total.toFixed(1)} ms: ${Object.entries(r.phases).map(([p, ms]) => `${p} ${ms.toFixed(1)}`).join(', ')}, rest ${Math.max(0, r.total - r.covered).toFixed(1)}`);
}
