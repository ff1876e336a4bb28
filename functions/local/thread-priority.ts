// Background work of the local stack (the trainer's process) should take only CPU time the API and the emulators do
// not want: on 2 cores, a retrain would otherwise take CPU exactly when labelers are waiting. Linux keeps a nice
// value per thread, so every thread of the background process is made "nicer": it still gets every idle cycle
// (retrains are not slowed on a quiet machine) but yields under contention. Best effort: other systems (no /proc)
// and refusals leave priorities as they are. In the cloud the trainer is a Lambda of its own.

import { readdirSync } from 'node:fs';
import os from 'node:os';

/** Nice value for background work (0 = normal, 19 = lowest). */
export const BACKGROUND_NICE = 19;

/** Lowers the priority of every thread of this process (threads started afterwards inherit it). */
export function lowerOwnThreads(nice = BACKGROUND_NICE): void {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    tids = [String(process.pid)];
  }
  for (const tid of tids) {
    try {
      os.setPriority(Number(tid), nice);
    } catch {
      // not permitted here: run at normal priority
    }
  }
}
