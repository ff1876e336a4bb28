// The local API's store thread (functions/local/store-thread.ts) dying under load: every call it had in flight ends
// (answered, or failed saying the thread stopped; none hangs), the death is logged, the next calls are answered in
// the API's own thread while a new one loads, and then they go to the new thread. The Worker class is wrapped here
// only to reach the thread from outside; the store thread itself runs as in the product.

import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Worker as WorkerType } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAwsStores, destroyAwsClients, ensureTables, type AwsConfig, type AwsStores } from '../../functions/adapters/aws/clients.js';
import { DEFAULT_TABLE_NAMES } from '../../functions/adapters/aws/schema.js';
import { DEFAULT_EMULATOR_CREDENTIALS, startDynaliteProcess, type RunningEmulator } from '../../functions/local/emulators.js';
import { startStoreThread, type StoreThread } from '../../functions/local/store-thread.js';
import { tempDir } from '../support/stack.js';

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
  let dynamo: RunningEmulator;
  let stores: AwsStores;
  let thread: StoreThread;
  const logged: string[] = [];

  beforeAll(async () => {
    dynamo = await startDynaliteProcess({ dir: await tempDir('store-thread-death'), credentials: DEFAULT_EMULATOR_CREDENTIALS });
    const config: AwsConfig = {
      region: 'us-east-1',
      endpoints: { dynamodb: dynamo.endpoint, s3: 'http://127.0.0.1:1' },
      credentials: DEFAULT_EMULATOR_CREDENTIALS,
      tables: DEFAULT_TABLE_NAMES,
      bucket: 'unused',
    };
    thread = startStoreThread((line) => logged.push(line));
    stores = createAwsStores(config, { doc: (inProcess) => thread.documentClient(config, inProcess) });
    await ensureTables(stores, DEFAULT_TABLE_NAMES, () => undefined);
    await thread.untilReady();
  });
  afterAll(async () => {
    await thread?.close();
    if (stores) destroyAwsClients(stores.clients);
    await dynamo?.close();
  });

  it('ends every call in flight, logs it, answers in place meanwhile, then uses a new thread', async () => {
    const doc = (stores.samples as unknown as { doc: AwsStores['clients']['doc'] }).doc;
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
