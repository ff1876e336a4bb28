// Storage requests the stack's own SDK clients send, by service and operation (GetObject, BatchWriteItem, ...),
// counted by a middleware while `counting()` says so: what ingest costs in S3 and DynamoDB requests per image.
// S3 writes are also counted by what they write (thumbnail, display copy, embedding shard), and DynamoDB batch
// writes by the items they carry, to see how well the grouped writes group.

type Counted = { middlewareStack: { add(mw: unknown, opts: { step: 'initialize'; name: string }): void } };
type Input = { Key?: string; RequestItems?: Record<string, unknown[]> };

/** What an S3 key holds, by the bucket layout (functions/domain/layout.ts). */
function objectKind(key: string): string {
  if (key.startsWith('embeddings/')) return 'shard';
  if (key.startsWith('derived/')) return key.endsWith('/thumb.webp') ? 'thumbnail' : 'display';
  return key.slice(0, key.indexOf('/') + 1) || key;
}

/**
 * The DynamoDB clients that send a stores object's requests: the plain client, and the second client the stores'
 * document client sends its commands through (adapters/aws/document-client.ts, `cached`), when it has one. Counting
 * must be installed before that client's first request of an operation (it caches each operation's chain).
 */
export function dynamoClients(clients: { dynamodb: Counted; doc: unknown }): Counted[] {
  const cached = (clients.doc as { cached?: Counted }).cached;
  return cached ? [clients.dynamodb, cached] : [clients.dynamodb];
}

export function countRequests(byService: Record<string, Counted | Counted[]>, counting: () => boolean) {
  const clients = Object.entries(byService).flatMap(([service, c]) => (Array.isArray(c) ? c : [c]).map((client) => [service, client] as const));
  const counts = new Map<string, number>();
  const detail = new Map<string, number>();
  const add = (map: Map<string, number>, name: string, n = 1) => map.set(name, (map.get(name) ?? 0) + n);
  for (const [service, client] of clients) {
    client.middlewareStack.add(
      (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: unknown) => {
        if (counting()) {
          const op = (context.commandName ?? 'unknown').replace(/Command$/, '');
          add(counts, `${service}.${op}`);
          const input = (args as { input?: Input }).input;
          if (op === 'PutObject' && input?.Key) add(detail, `PutObject ${objectKind(input.Key)}`);
          if (op === 'BatchWriteItem' && input?.RequestItems) {
            add(detail, 'BatchWriteItem items', Object.values(input.RequestItems).reduce((n, items) => n + items.length, 0));
          }
        }
        return next(args);
      },
      { step: 'initialize', name: 'winnowBenchRequestCount' },
    );
  }
  const sorted = (map: Map<string, number>) => Object.fromEntries([...map].sort(([a], [b]) => (a < b ? -1 : 1)));
  return {
    /** Requests per operation so far, sorted by name. */
    snapshot: () => sorted(counts),
    /** PutObject by what it wrote, and the items BatchWriteItem carried. */
    detail: () => sorted(detail),
  };
}
