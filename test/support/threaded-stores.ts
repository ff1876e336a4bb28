// The AWS stores on a dynalite child of their own, sending through the local API's store thread
// (functions/local/store-thread.ts), as the local stack composes them: for the store thread's tests.

import { createAwsStores, destroyAwsClients, ensureTables, type AwsConfig, type AwsStores } from '../../functions/adapters/aws/clients.js';
import { DEFAULT_TABLE_NAMES } from '../../functions/adapters/aws/schema.js';
import type { Log } from '../../functions/domain/ports.js';
import { DEFAULT_EMULATOR_CREDENTIALS, startDynaliteProcess } from '../../functions/local/emulators.js';
import { startStoreThread, type StoreThread } from '../../functions/local/store-thread.js';
import { tempDir } from './stack.js';

export interface ThreadedStores {
  stores: AwsStores;
  thread: StoreThread;
  /** The document client the stores send through (the thread's). */
  doc: AwsStores['clients']['doc'];
  close(): Promise<void>;
}

/** Tables made, the thread ready (until then calls run in place and `sent` does not count them). */
export async function startThreadedStores(prefix: string, log?: Log): Promise<ThreadedStores> {
  const dynamo = await startDynaliteProcess({ dir: await tempDir(prefix), credentials: DEFAULT_EMULATOR_CREDENTIALS });
  const config: AwsConfig = {
    region: 'us-east-1',
    endpoints: { dynamodb: dynamo.endpoint, s3: 'http://127.0.0.1:1' },
    credentials: DEFAULT_EMULATOR_CREDENTIALS,
    tables: DEFAULT_TABLE_NAMES,
    bucket: 'unused',
  };
  const thread = startStoreThread(log);
  let doc!: AwsStores['clients']['doc'];
  const stores = createAwsStores(config, { doc: (inProcess) => (doc = thread.documentClient(config, inProcess)) });
  await ensureTables(stores, DEFAULT_TABLE_NAMES, () => undefined);
  await thread.untilReady();
  return {
    stores,
    thread,
    doc,
    close: async () => {
      await thread.close();
      destroyAwsClients(stores.clients);
      await dynamo.close();
    },
  };
}
