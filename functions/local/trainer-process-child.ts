// Composition root of the local trainer process: its own AWS SDK clients to the emulators, the in-process runner
// inside, every thread at background priority, and the request/response protocol of trainer-process.ts.

import { createAwsStores, type AwsConfig } from '../adapters/aws/clients.js';
import { inProcessRunner, type TrainerRunner } from '../trainer/runner.js';
import { lowerOwnThreads } from './thread-priority.js';

type Message =
  | { kind: 'start'; config: AwsConfig; nice?: number }
  | { id: number; kind: 'retrain'; args: Parameters<TrainerRunner['retrain']> }
  | { id: number; kind: 'similar'; args: Parameters<TrainerRunner['similar']> };

let runner: TrainerRunner | undefined;

process.on('message', async (message: Message) => {
  if (message.kind === 'start') {
    // Threads started later inherit the value from the thread that starts them. No value: the parent's priority.
    if (message.nice !== undefined) lowerOwnThreads(message.nice);
    runner = inProcessRunner(createAwsStores(message.config));
    return;
  }
  try {
    if (!runner) throw new Error('the trainer process was not started');
    const result = message.kind === 'retrain' ? await runner.retrain(...message.args) : await runner.similar(...message.args);
    process.send!({ id: message.id, result });
  } catch (err) {
    process.send!({ id: message.id, error: (err as Error).message });
  }
});
// The parent went away (closed or crashed): nothing is left to do.
process.on('disconnect', () => process.exit(0));
