// The local API's store thread (functions/local/store-thread.ts) dying under load: every call it had in flight ends
// (answered, or failed saying the thread stopped; none hangs), the death is logged, the next calls are answered in
// the API's own thread while a new one loads, and then they go to the new thread. The Worker class is wrapped here
// only to reach the thread from outside; the store thread itself runs as in the product.

import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Worker as WorkerType } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_TABLE_NAMES } from '../../functions/adapters/aws/schema.js';
import { startThreadedStores, type ThreadedStores } from '../support/threaded-stores.js';

const threads = vi.hoisted(() => [] as WorkerType[]);
vi.mock('node:worker_threads', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:worker_threads')>();
  class Worker extends original.Worker {
    constructor(...args: ConstructorParameters<typeof original.Worker>) {
      super(...args);
      threads.push(this);
    }
  }
  return { ...original, Worker, default: { ...original, Worker } };
});

const TABLE = DEFAULT_TABLE_NAMES.annotations;

describe('a store thread that dies', () => {
  let threaded: ThreadedStores;
  const logged: string[] = [];

  beforeAll(async () => {
    threaded = await startThreadedStores('store-thread-death', (line) => logged.push(line));
  });
  afterAll(() => threaded?.close());

  it('ends every call in flight, logs it, answers in place meanwhile, then uses a new thread', async () => {
    const { doc, thread } = threaded;
    expect(threads).toHaveLength(1);
    const item = (n: number) => ({ sampleKey: 'p#dies', version: n, labelerId: 'ann' });
    const sentBefore = thread.sent;
    const inFlight = Array.from({ length: 20 }, (_, i) => doc.send(new PutCommand({ TableName: TABLE, Item: item(i) })).then(() => 'answered', (e: Error) => e.message));
    expect(thread.sent - sentBefore).toBe(20);
    await threads[0].terminate();
    const outcomes = await Promise.all(inFlight);
    for (const o of outcomes) expect(['answered', 'the store thread stopped (exit code 1)']).toContain(o);
    expect(logged.some((l) => l.startsWith('store thread stopped'))).toBe(true);

    // Answered in this thread while the new one loads; not counted as sent to a thread.
    const sentAfterDeath = thread.sent;
    const read = await doc.send(new GetCommand({ TableName: TABLE, Key: { sampleKey: 'p#dies', version: 19 }, ConsistentRead: true }));
    expect(read.$metadata.httpStatusCode).toBe(200);
    expect(thread.sent).toBe(sentAfterDeath);
    expect(threads).toHaveLength(2);

    await thread.untilReady();
    await doc.send(new PutCommand({ TableName: TABLE, Item: item(100) }));
    expect(thread.sent).toBe(sentAfterDeath + 1);
    const back = await doc.send(new GetCommand({ TableName: TABLE, Key: { sampleKey: 'p#dies', version: 100 }, ConsistentRead: true }));
    expect(back.Item).toEqual(item(100));
  });
});
