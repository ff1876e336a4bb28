// Reading a paged list (stores' list* calls, blobs.list) to its end, for tests and benchmarks that check or count
// everything a store holds.

import type { Page } from '../../functions/domain/ports.js';

/** Every item of a paged list, following the cursor until there is none. */
export async function allPages<T>(list: (cursor?: string) => Promise<Page<T>>): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    out.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return out;
}
