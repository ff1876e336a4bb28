// The local stack runs the trainer on a worker thread of the API's process, and both want a core: with 2 cores
// and the emulators beside them, a retrain would take CPU time exactly when labelers are waiting. Linux keeps a nice
// value per thread, so the trainer's thread is made "nicer": it still gets every idle cycle (retrains are not
// slowed on a quiet machine) but yields to the API's thread and the emulators under contention. Best effort: other
// systems (no /proc) and refusals leave priorities as they are. In the cloud the trainer is a Lambda of its own.

import { readdirSync } from 'node:fs';
import os from 'node:os';

/** Nice value for background threads (0 = normal, 19 = lowest). */
export const BACKGROUND_NICE = 10;

/** Runs `start` (which must create its threads synchronously, as `new Worker()` does) and lowers their priority. */
export function withBackgroundPriority<T>(start: () => T, nice = BACKGROUND_NICE): T {
  const before = threadIds();
  const result = start();
  if (before) {
    for (const tid of threadIds() ?? []) {
      if (before.has(tid)) continue;
      try {
        os.setPriority(Number(tid), nice);
      } catch {
        // not permitted here: run at normal priority
      }
    }
  }
  return result;
}

function threadIds(): Set<string> | undefined {
  try {
    return new Set(readdirSync('/proc/self/task'));
  } catch {
    return undefined;
  }
}
