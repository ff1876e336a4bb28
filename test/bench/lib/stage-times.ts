// Sums of wall-clock durations per named stage, fed by the analyzer's `onStage` hook and by timing wrappers put
// around the store objects the ingest handler calls.

export interface StageTotal {
  calls: number;
  ms: number;
}

export class StageTimes {
  private readonly totals = new Map<string, StageTotal>();
  /** While true, records are dropped (e.g. while the bench itself reads progress through the same stores). */
  paused = false;
  /** When the first recorded call since the last reset started (performance.now() time). */
  firstStartedAt?: number;

  readonly record = (stage: string, ms: number): void => {
    if (this.paused) return;
    this.firstStartedAt = Math.min(this.firstStartedAt ?? Infinity, performance.now() - ms);
    const t = this.totals.get(stage) ?? { calls: 0, ms: 0 };
    t.calls++;
    t.ms += ms;
    this.totals.set(stage, t);
  };

  /** Adds totals recorded elsewhere (another thread's), whatever `paused` says. */
  add(stage: string, total: StageTotal): void {
    const t = this.totals.get(stage) ?? { calls: 0, ms: 0 };
    t.calls += total.calls;
    t.ms += total.ms;
    this.totals.set(stage, t);
  }

  get(stage: string): StageTotal {
    return this.totals.get(stage) ?? { calls: 0, ms: 0 };
  }

  /** Sum over every stage whose name starts with `prefix`. */
  sum(prefix: string): StageTotal {
    let calls = 0;
    let ms = 0;
    for (const [name, t] of this.totals) {
      if (!name.startsWith(prefix)) continue;
      calls += t.calls;
      ms += t.ms;
    }
    return { calls, ms };
  }

  snapshot(): Record<string, StageTotal> {
    return Object.fromEntries([...this.totals].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, { ...v }]));
  }

  reset(): void {
    this.totals.clear();
    this.firstStartedAt = undefined;
  }
}

/**
 * Replaces every method of `target` (own and inherited) with one that reports `<label>.<method>` and its duration.
 * The ingest code looks methods up on the same objects at call time, so it goes through the wrappers.
 */
export function timeMethods(target: object, label: string, record: (stage: string, ms: number) => void): void {
  const obj = target as Record<string, unknown>;
  const names = new Set<string>();
  for (let o: object | null = target; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const name of Object.getOwnPropertyNames(o)) if (name !== 'constructor' && typeof obj[name] === 'function') names.add(name);
  }
  for (const name of names) {
    const fn = obj[name] as (...args: unknown[]) => unknown;
    obj[name] = function (this: unknown, ...args: unknown[]) {
      const start = performance.now();
      const done = () => record(`${label}.${name}`, performance.now() - start);
      const result = fn.apply(this, args);
      if (result instanceof Promise) return result.finally(done);
      done();
      return result;
    };
  }
}
