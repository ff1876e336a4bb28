// The store thread's side (see store-thread.ts): its own SDK clients, the same configuration as the main thread's,
// each message is one DynamoDB document command, by its lib-dynamodb name, with the input as the adapter built it.

import { parentPort } from 'node:worker_threads';
import * as lib from '@aws-sdk/lib-dynamodb';
import { createDynamoClients } from '../adapters/aws/dynamo-clients.js';
import { serializeSdkError, type FromStoreThread, type SdkErrorFields, type ToStoreThread } from './store-thread.js';

const port = parentPort!;
// Made on the first message (the thread starts before the emulators' endpoints are known); sends come after it.
let clients: ReturnType<typeof createDynamoClients> | undefined;
const commands = lib as unknown as Record<string, new (input: unknown) => lib.DynamoDBDocumentClientCommand<never, never, never, never, never>>;

port.on('message', (m: ToStoreThread) => {
  if (m.kind === 'configure') {
    clients = createDynamoClients(m.config);
    port.postMessage({ kind: 'ready' } satisfies FromStoreThread);
    return;
  }
  const Command = commands[m.op];
  const reply = (answer: { output?: unknown; error?: SdkErrorFields }) => port.postMessage({ kind: 'reply', id: m.id, ...answer } satisfies FromStoreThread);
  let sent: Promise<unknown>;
  try {
    sent = clients!.doc.send(new Command(m.input));
  } catch (err) {
    sent = Promise.reject(err); // the command refused its input
  }
  sent.then(
    (output) => reply({ output }),
    (err: unknown) => reply({ error: serializeSdkError(err) }),
  );
});
