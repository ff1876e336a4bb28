// The local API sends its DynamoDB calls through a thread of its own (functions/local/store-thread.ts). The stores
// must not tell the difference: the same answers, the same errors by name (a refused condition is still a refused
// condition, a stale version still a 409), and background work (a label's completion, a sample leased ahead) never
// crowds out a call somebody waits for.

import { BatchGetCommand, BatchWriteCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsStores } from '../../functions/adapters/aws/clients.js';
import { isConditionFailed } from '../../functions/adapters/aws/dynamo.js';
import { DEFAULT_TABLE_NAMES } from '../../functions/adapters/aws/schema.js';
import { inBackground } from '../../functions/domain/background.js';
import type { StoreThread } from '../../functions/local/store-thread.js';
import { startThreadedStores, type ThreadedStores } from '../support/threaded-stores.js';

const TABLE = DEFAULT_TABLE_NAMES.annotations;

describe('the store thread', () => {
  let setup: ThreadedStores;
  let stores: AwsStores;
  let thread: StoreThread;

  beforeAll(async () => {
    setup = await startThreadedStores('store-thread');
    ({ stores, thread } = setup);
  });
  afterAll(() => setup?.close());

  const item = (n: number) => ({ sampleKey: 'p#s', version: n, labelerId: 'ann', tags: new Set(['a', 'b']), bytes: new Uint8Array([1, 2, n]) });

  it('answers every kind of document command as the SDK in this thread does', async () => {
    const sentBefore = thread.sent;
    const threaded = (stores.samples as unknown as { doc: AwsStores['clients']['doc'] }).doc;
    expect(threaded).not.toBe(stores.clients.doc);
    await threaded.send(new PutCommand({ TableName: TABLE, Item: item(1) }));
    await threaded.send(new BatchWriteCommand({ RequestItems: { [TABLE]: [2, 3].map((n) => ({ PutRequest: { Item: item(n) } })) } }));
    await threaded.send(new PutCommand({ TableName: TABLE, Item: item(5) }));
    await threaded.send(new DeleteCommand({ TableName: TABLE, Key: { sampleKey: 'p#s', version: 5 } }));
    await threaded.send(new PutCommand({ TableName: TABLE, Item: item(4) }));
    await threaded.send(new UpdateCommand({ TableName: TABLE, Key: { sampleKey: 'p#s', version: 1 }, UpdateExpression: 'SET labelerId = :l', ExpressionAttributeValues: { ':l': 'bea' } }));

    const here = stores.clients.doc; // the same table read by the in-process client
    const viaThread = await threaded.send(new GetCommand({ TableName: TABLE, Key: { sampleKey: 'p#s', version: 1 }, ConsistentRead: true }));
    const inProcess = await here.send(new GetCommand({ TableName: TABLE, Key: { sampleKey: 'p#s', version: 1 }, ConsistentRead: true }));
    expect(viaThread.Item).toEqual(inProcess.Item);
    expect(viaThread.Item).toEqual({ ...item(1), labelerId: 'bea' });
    expect(viaThread.Item!.tags).toBeInstanceOf(Set);

    const query = await threaded.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'sampleKey = :k', ExpressionAttributeValues: { ':k': 'p#s' }, ConsistentRead: true }));
    expect(query.Items!.map((i) => i.version)).toEqual([1, 2, 3, 4]);
    const batch = await threaded.send(new BatchGetCommand({ RequestItems: { [TABLE]: { Keys: [2, 4].map((version) => ({ sampleKey: 'p#s', version })) } } }));
    expect(batch.Responses![TABLE].map((i) => i.version).sort()).toEqual([2, 4]);
    expect(thread.sent - sentBefore).toBe(9);
  });

  it('throws the errors the SDK throws, by name, so that a refused condition reads as one', async () => {
    const threaded = (stores.annotations as unknown as { doc: AwsStores['clients']['doc'] }).doc;
    const refused = await threaded.send(new PutCommand({ TableName: TABLE, Item: item(1), ConditionExpression: 'attribute_not_exists(sampleKey)' })).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).name).toBe('ConditionalCheckFailedException');
    expect(isConditionFailed(refused)).toBe(true);
    expect((refused as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(400);
    const invalid = await threaded.send(new GetCommand({ TableName: TABLE, Key: { nope: 'x' } })).catch((e: unknown) => e);
    expect((invalid as Error).name).toBe('ValidationException');
    // An item that cannot be sent is refused on this side, and nothing is left waiting (close() below returns).
    const sentBefore = thread.sent;
    await expect(threaded.send(new PutCommand({ TableName: TABLE, Item: { ...item(9), bad: () => 1 } }))).rejects.toThrow();
    expect(thread.sent).toBe(sentBefore);
    // The store adapters above it: a claim of a version already claimed is refused, not an outage.
    const record = { projectId: 'p', sampleId: 's2', version: 0, labelerId: 'ann', requestId: 'req-0001', classIndex: 0, createdAt: 1 };
    expect((await stores.annotations.append(record as never)).created).toBe(true);
    expect((await stores.annotations.append({ ...record, requestId: 'req-0002' } as never)).created).toBe(false);
  });

  it('lets a waiting request go first: background calls are sent two at a time', async () => {
    const threaded = (stores.labelers as unknown as { doc: AwsStores['clients']['doc'] }).doc;
    const before = thread.sent;
    const background = inBackground(() => Promise.all(Array.from({ length: 10 }, (_, i) => threaded.send(new PutCommand({ TableName: TABLE, Item: item(100 + i) })))));
    expect(thread.sent - before).toBe(2); // the other eight wait for their turn
    const foreground = threaded.send(new GetCommand({ TableName: TABLE, Key: { sampleKey: 'p#s', version: 1 } }));
    expect(thread.sent - before).toBe(3); // sent at once, ahead of them
    await Promise.all([background, foreground]);
    expect(thread.sent - before).toBe(11);
    // Labels faster than two calls at a time complete them: beyond 16 waiting, the next go at once (never far behind).
    const sentNow = thread.sent;
    const burst = inBackground(() => Promise.all(Array.from({ length: 30 }, (_, i) => threaded.send(new PutCommand({ TableName: TABLE, Item: item(200 + i) })))));
    expect(thread.sent - sentNow).toBe(2 + (30 - 2 - 16));
    await burst;
    const all = await threaded.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'sampleKey = :k AND version BETWEEN :a AND :b', ExpressionAttributeValues: { ':k': 'p#s', ':a': 100, ':b': 199 }, ConsistentRead: true }));
    expect(all.Items).toHaveLength(10);
  });
});
