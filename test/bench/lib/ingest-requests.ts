// Storage requests the stack's own SDK clients send, by service and operation (GetObject, BatchWriteItem, ...),
// counted by a middleware while `counting()` says so: what ingest costs in S3 and DynamoDB requests per image.

type Counted = { middlewareStack: { add(mw: unknown, opts: { step: 'initialize'; name: string }): void } };

export function countRequests(clients: Record<string, Counted>, counting: () => boolean) {
  const counts = new Map<string, number>();
  for (const [service, client] of Object.entries(clients)) {
    client.middlewareStack.add(
      (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: unknown) => {
        if (counting()) {
          const name = `${service}.${(context.commandName ?? 'unknown').replace(/Command$/, '')}`;
          counts.set(name, (counts.get(name) ?? 0) + 1);
        }
        return next(args);
      },
      { step: 'initialize', name: 'winnowBenchRequestCount' },
    );
  }
  return {
    /** Requests per operation so far, sorted by name. */
    snapshot: () => Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}
