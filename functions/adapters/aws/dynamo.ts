// DynamoDB helpers shared by the table adapters: condition failures, exact pages, full reads.

import { BatchWriteCommand, QueryCommand, ScanCommand, type DynamoDBDocumentClient, type QueryCommandInput, type ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Page } from '../../domain/ports.js';
import { decodeCursor, encodeCursor, invalidCursor } from '../paging.js';

export type Item = Record<string, unknown>;

export function isConditionFailed(err: unknown): boolean {
  return err instanceof Error && err.name === 'ConditionalCheckFailedException';
}

/** Removes storage-only attributes (keys, counters) so callers get the domain record. */
export function withoutAttrs<T>(item: Item, attrs: readonly string[]): T {
  const copy = { ...item };
  for (const a of attrs) delete copy[a];
  return copy as T;
}

function pick(item: Item, keyNames: readonly string[]): Record<string, string | number> {
  return Object.fromEntries(keyNames.map((k) => [k, item[k] as string | number]));
}

/**
 * One page of a query with a cursor only when more items exist: asks for one item beyond the page, and keeps asking
 * when DynamoDB stops early (1 MB responses). `keyNames` are the table (and index) key attributes of an item.
 */
export async function queryPage(
  doc: DynamoDBDocumentClient,
  params: Omit<QueryCommandInput, 'Limit' | 'ExclusiveStartKey'>,
  keyNames: readonly string[],
  limit: number,
  cursor?: string,
): Promise<Page<Item>> {
  const items: Item[] = [];
  let start: Item | undefined = cursor === undefined ? undefined : decodeCursor(cursor);
  do {
    let out;
    try {
      out = await doc.send(new QueryCommand({ ...params, Limit: limit + 1 - items.length, ExclusiveStartKey: start }));
    } catch (err) {
      // A cursor from another listing names a key this query cannot start from.
      if (cursor !== undefined && err instanceof Error && err.name === 'ValidationException') throw invalidCursor();
      throw err;
    }
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start && items.length <= limit);
  if (items.length <= limit) return { items };
  const page = items.slice(0, limit);
  return { items: page, cursor: encodeCursor(pick(page[limit - 1], keyNames)) };
}

/** DynamoDB's BatchWriteItem limit. */
export const BATCH_WRITE_LIMIT = 25;

/** Deletes items by key, 25 a request, several requests at once, retrying what DynamoDB leaves unprocessed. */
export async function batchDelete(doc: DynamoDBDocumentClient, table: string, keys: Item[], concurrency = 8): Promise<void> {
  const chunks = Array.from({ length: Math.ceil(keys.length / BATCH_WRITE_LIMIT) }, (_, i) => keys.slice(i * BATCH_WRITE_LIMIT, (i + 1) * BATCH_WRITE_LIMIT));
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      let requests = chunks[next++].map((Key) => ({ DeleteRequest: { Key } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
        const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
        requests = (out.UnprocessedItems?.[table] ?? []) as typeof requests;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, chunks.length) }, worker));
}

/**
 * Puts items unconditionally, 25 a request, all requests at once, retrying what DynamoDB leaves unprocessed. `groups`
 * are kept whole in one request where they fit (an image with its samples); a larger group is split.
 */
export async function batchPut(doc: DynamoDBDocumentClient, table: string, groups: Item[][]): Promise<void> {
  const chunks: Item[][] = [];
  let chunk: Item[] = [];
  const close = () => {
    if (chunk.length > 0) chunks.push(chunk);
    chunk = [];
  };
  for (const group of groups) {
    if (chunk.length + group.length > BATCH_WRITE_LIMIT) close();
    for (const item of group) {
      if (chunk.length === BATCH_WRITE_LIMIT) close();
      chunk.push(item);
    }
  }
  close();
  await Promise.all(
    chunks.map(async (items) => {
      let requests = items.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
        const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
        requests = (out.UnprocessedItems?.[table] ?? []) as typeof requests;
      }
    }),
  );
}

export async function queryAll(doc: DynamoDBDocumentClient, params: Omit<QueryCommandInput, 'ExclusiveStartKey'>): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const out = await doc.send(new QueryCommand({ ...params, ExclusiveStartKey: start }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

export async function scanAll(doc: DynamoDBDocumentClient, params: Omit<ScanCommandInput, 'ExclusiveStartKey'>): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const out = await doc.send(new ScanCommand({ ...params, ExclusiveStartKey: start }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}
