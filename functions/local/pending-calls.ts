// Calls made to a worker thread and not answered yet, by id: what the local stack's ingest and store threads keep on
// the main thread's side.

type Settle = { resolve: (value: unknown) => void; reject: (err: Error) => void };

export class PendingCalls {
  private readonly calls = new Map<number, Settle>();
  private nextId = 0;
  private idleWaiters: (() => void)[] = [];

  get size(): number {
    return this.calls.size;
  }

  /** A new call's id; its promise settles through `answer` or `failAll`. */
  add<T>(resolve: (value: T) => void, reject: (err: Error) => void): number {
    const id = this.nextId++;
    this.calls.set(id, { resolve: resolve as (value: unknown) => void, reject });
    return id;
  }

  /** Settles call `id` (unknown ids are ignored: a call already failed with its thread). */
  answer(id: number, error: Error | undefined, value?: unknown): void {
    const call = this.calls.get(id);
    this.calls.delete(id);
    if (error) call?.reject(error);
    else call?.resolve(value);
    this.whenEmpty();
  }

  failAll(err: Error): void {
    const calls = [...this.calls.values()];
    this.calls.clear();
    for (const call of calls) call.reject(err);
    this.whenEmpty();
  }

  /** Resolves once no call is pending. */
  idle(): Promise<void> {
    return this.calls.size === 0 ? Promise.resolve() : new Promise((r) => this.idleWaiters.push(r));
  }

  private whenEmpty(): void {
    if (this.calls.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
