// Paging over an in-memory, key-sorted list: same contract as the DynamoDB adapters (cursor only when more remain).

import type { Page } from '../../domain/ports.js';
import { compareKeys } from '../keys.js';
import { decodeCursor, encodeCursor, invalidCursor } from '../paging.js';

export function pageAfter<T>(sorted: readonly T[], keyOf: (item: T) => string, limit: number, cursor?: string): Page<T> {
  let start = 0;
  if (cursor !== undefined) {
    const { after } = decodeCursor(cursor);
    if (typeof after !== 'string') throw invalidCursor();
    start = sorted.findIndex((item) => compareKeys(keyOf(item), after) > 0);
    if (start < 0) start = sorted.length;
  }
  const items = sorted.slice(start, start + limit);
  const more = start + limit < sorted.length;
  return more ? { items, cursor: encodeCursor({ after: keyOf(items[items.length - 1]) }) } : { items };
}

export function sortByKey<T>(items: Iterable<T>, keyOf: (item: T) => string): T[] {
  return [...items].sort((a, b) => compareKeys(keyOf(a), keyOf(b)));
}
