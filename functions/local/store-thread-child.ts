// The store thread's side (see store-thread.ts): its own SDK clients, the same configuration as the main thread's;
// each message is one DynamoDB document command, by its lib-dynamodb name, with the input as the adapter built it.

import { parentPort, workerData } from 'node:worker_threads';
import * as lib from '@aws-sdk/lib-dynamodb';
import { createAwsClients, destroyAwsClients } from '../adapters/aws/clients.js';
import { serializeSdkError, type FromStoreThread, type StoreThreadData, type ToStoreThread } from './store-thread.js';

const port = parentPort!;
const { config } = workerData as StoreThreadData;
const clients = createAwsClients(config);
const commands = lib as unknown as Record<string, new (input: unknown) => lib.DynamoDBDocumentClientCommand<never, never, never, never, never>>;

port.on('message', (m: ToStoreThread) => {
  if (m.kind === 'close') {
    destroyAwsClients(clients);
    port.postMessage({ kind: 'closed' } satisfies FromStoreThread);
    return;
  }
  const Command = commands[m.op];
  clients.doc.send(new Command(m.input)).then(
    (output: unknown) => port.postMessage({ kind: 'reply', id: m.id, output } satisfies FromStoreThread),
    (err: unknown) => port.postMessage({ kind: 'reply', id: m.id, error: serializeSdkError(err) } satisfies FromStoreThread),
  );
});
