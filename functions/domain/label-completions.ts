// Labels answered before their head is written. A label is two round trips to the store: the claim of its annotation
// record (the label's truth, annotate.ts), then the sample head and the labeler's progress together. In the local
// stack one long-lived process serves every labeler, so the answer need not wait for the second: once the record is
// claimed, the label is answered, and the head's advance and the labeler's progress follow at once (bench:api:
// annotate's p99 is one store call's tail instead of two in sequence). Until they have landed:
//  - this process serves nothing stale: its serving memory already holds the head the advance will write, and every
//    other read of the project waits for them (`settled`; the API's access check awaits it on every route but
//    next-sample and the label itself);
//  - a retry of the same label finds its own record (annotate.ts), as before;
//  - a completion that fails on the way (the store unreachable for a moment) is tried again while the process lives;
//  - every label is noted in a journal on the local disk before its claim is sent, and closed once completed (or
//    refused): a process that dies leaves it open, and the next start completes every open label whose record was
//    claimed (`finishUnfinished`) before serving. So a label in the annotation log, answered or not (the process
//    may die between the claim and the answer), always reaches its head, the counts and the labeler's progress.
// A Lambda may freeze after answering: the cloud never defers (Stores.labelCompletions is absent there).

import { finishClaimedLabel } from './annotate.js';
import { inBackground } from './background.js';
import { WinnowError } from './errors.js';
import type { LabelCompletions, LabelJournal, LabelTicket, Log, PendingLabel, Stores } from './ports.js';

/** Waits between attempts of a failing completion; after the last, the journal keeps it for the next start. */
const RETRY_MS = [50, 100, 200, 500, 1000, 2000, 5000, 5000, 5000, 5000];

interface Running {
  sampleId: string;
  done: Promise<void>;
}

export class LabelCompletionTracker implements LabelCompletions {
  /** Per project, the completions under way by journal token. */
  private readonly running = new Map<string, Map<number, Running>>();

  constructor(
    private readonly journal: LabelJournal,
    private readonly log: Log,
    private readonly retryMs: readonly number[] = RETRY_MS,
  ) {}

  begin(label: PendingLabel): LabelTicket {
    return { token: this.journal.open(label), label };
  }

  abandon(ticket: LabelTicket): void {
    this.journal.close(ticket.token);
  }

  complete({ token, label }: LabelTicket, complete: () => Promise<void>): Promise<void> {
    let project = this.running.get(label.projectId);
    if (!project) this.running.set(label.projectId, (project = new Map()));
    // Nobody waits for it but later reads of the project: it lets the store calls of waiting requests go first.
    const done = inBackground(() => this.attempt(label, token, complete)).finally(() => {
      project.delete(token);
      if (project.size === 0 && this.running.get(label.projectId) === project) this.running.delete(label.projectId);
    });
    // Whoever waits through `settled` sees it end either way; the caller's copy carries the outcome.
    project.set(token, { sampleId: label.sampleId, done: done.catch(() => undefined) });
    return done;
  }

  async settled(projectId: string, sampleId?: string): Promise<void> {
    const project = this.running.get(projectId);
    if (!project) return;
    const waits = [...project.values()].filter((r) => sampleId === undefined || r.sampleId === sampleId).map((r) => r.done);
    await Promise.all(waits);
  }

  /** Resolves once no completion is under way (before the store's clients close). */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()].flatMap((p) => [...p.values()].map((r) => r.done)));
  }

  /** Completions under way (for tests and diagnostics). */
  get size(): number {
    let n = 0;
    for (const p of this.running.values()) n += p.size;
    return n;
  }

  private async attempt(label: PendingLabel, token: number, complete: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await complete();
        this.journal.close(token);
        return;
      } catch (err) {
        if (err instanceof WinnowError) {
          // The store answered and refused for good (the project or sample deleted meanwhile): nothing left to do.
          this.log(`label ${describe(label)}: not completed, ${err.message}`);
          this.journal.close(token);
          throw err;
        }
        if (attempt >= this.retryMs.length) {
          this.log(`label ${describe(label)}: completing failed ${attempt + 1} times (${(err as Error).message}); the next start completes it`);
          throw err;
        }
        await new Promise((r) => setTimeout(r, this.retryMs[attempt]));
      }
    }
  }
}

/**
 * At start, before serving: completes the labels a process that died had claimed (answered or not) and not
 * completed, then empties the journal. Returns how many were completed (open labels never claimed are not).
 */
export async function finishUnfinished(stores: Stores, journal: LabelJournal, log: Log): Promise<number> {
  const open = journal.unfinished();
  let finished = 0;
  for (const label of open) {
    try {
      if (await finishClaimedLabel(stores, label)) finished++;
    } catch (err) {
      if (!(err instanceof WinnowError)) throw err; // the store is not answering: keep the journal, fail the start
      log(`label ${describe(label)}: not completed, ${err.message}`);
    }
  }
  journal.clear();
  if (open.length > 0) log(`labels: completed ${finished} label(s) claimed before the last stop`);
  return finished;
}

const describe = (l: PendingLabel) => `${l.projectId}/${l.sampleId} (version ${l.version}, ${l.labelerId})`;
