// Group commit: while one write is in flight, the entries that arrive meanwhile wait and then go out together in
// the next write. No entry waits for a timer; under load each write carries many entries (fewer storage calls).
// The first write starts at the end of the current turn of the event loop, so entries added in the same turn (work
// that finished together, e.g. ingest's grouped analyses) share it too instead of the first going alone.
// Each entry's promise settles once the write that holds it has finished (rejects if that write failed).

export class GroupCommit<T> {
  private waiting: { entry: T; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private writing = false;

  constructor(private readonly write: (entries: T[]) => Promise<void>) {}

  add(entry: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ entry, resolve, reject });
      if (!this.writing) {
        this.writing = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0);
      try {
        await this.write(batch.map((w) => w.entry));
        for (const w of batch) w.resolve();
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.writing = false;
  }
}
