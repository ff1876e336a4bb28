// The local stand-in for the SQS queue between the bucket and the ingest function: bounded concurrency,
// failures logged and retried a few times after a growing pause (as SQS's visibility timeout does; then the image
// ends failed with the error as its reason, and the next start's reconcile tries it again), and `idle()` so tests
// and the CLI can wait for ingest to finish.

import type { createIngestHandler, UploadEvent } from '../ingest/handler.js';
import type { IngestThread } from './ingest-thread.js';

/** The handler's queue-facing half: in this thread, or on the ingest thread (./ingest-thread.ts). */
export type IngestHandler = Pick<ReturnType<typeof createIngestHandler>, 'handleRecords' | 'giveUp'>;
type Record = UploadEvent;

const MAX_ATTEMPTS = 3;
/** Pause before the first retry; doubled before each further one. */
const DEFAULT_RETRY_DELAY_MS = 1000;

export class IngestQueue {
  private readonly pending: { record: Record; attempt: number }[] = [];
  private running = 0;
  /** Retries waiting for their pause to end. */
  private readonly delayed = new Set<NodeJS.Timeout>();
  private waiters: (() => void)[] = [];
  private stopped = false;
  readonly stats = { ready: 0, failed: 0, skipped: 0, errors: 0 };

  constructor(
    private readonly handler: IngestHandler,
    private readonly concurrency: number,
    private readonly opts: { retryDelayMs?: number; thread?: IngestThread } = {},
  ) {}

  /** The thread the handler runs on, when it has one of its own (for the bench's probes). */
  get thread(): IngestThread | undefined {
    return this.opts.thread;
  }

  push(records: Record[]): void {
    if (this.stopped) return;
    for (const record of records) this.pending.push({ record, attempt: 1 });
    this.pump();
  }

  get size(): number {
    return this.pending.length + this.running + this.delayed.size;
  }

  /**
   * Resolves when nothing is queued or running; with a thread, once its counted writes are applied too (the
   * thread's writes return before their counts: ingest-thread-child.ts), so the counts read then include them.
   */
  async idle(): Promise<void> {
    for (;;) {
      if (this.size > 0) await new Promise<void>((resolve) => this.waiters.push(resolve));
      if (!this.opts.thread) return;
      await this.opts.thread.settle();
      if (this.size === 0) return;
    }
  }

  /** Stops taking new work and waits for what is running. */
  async drain(): Promise<void> {
    this.stopped = true;
    this.pending.length = 0;
    for (const timer of this.delayed) clearTimeout(timer);
    this.delayed.clear();
    await this.idle();
  }

  private pump(): void {
    while (this.running < this.concurrency && this.pending.length > 0) {
      const job = this.pending.shift()!;
      this.running++;
      void this.handler
        .handleRecords([job.record])
        .then(([result]) => {
          if (result.error) {
            this.stats.errors++;
            if (job.attempt < MAX_ATTEMPTS && !this.stopped) this.retryLater({ ...job, attempt: job.attempt + 1 });
            else if (!this.stopped) return this.handler.giveUp(job.record, result.error);
          } else if (result.outcome) {
            this.stats[result.outcome.status]++;
          }
        })
        .catch(() => undefined) // handleRecords and giveUp report their own errors; nothing may escape the queue
        .finally(() => {
          this.running--;
          this.pump();
          this.notifyIdle();
        });
    }
  }

  private retryLater(job: { record: Record; attempt: number }): void {
    const timer = setTimeout(() => {
      this.delayed.delete(timer);
      if (!this.stopped) this.pending.push(job);
      this.pump();
      this.notifyIdle();
    }, (this.opts.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS) * 2 ** (job.attempt - 2));
    this.delayed.add(timer);
  }

  private notifyIdle(): void {
    if (this.size === 0) for (const resolve of this.waiters.splice(0)) resolve();
  }
}
