// The trainer's worker thread (local stack): its own AWS SDK clients to the same emulators, the in-process runner
// inside, and a small request/response protocol with the main thread.

import { parentPort, workerData } from 'node:worker_threads';
import { createAwsStores, type AwsConfig } from '../adapters/aws/clients.js';
import { inProcessRunner } from './runner.js';

type Request =
  | { id: number; kind: 'retrain'; args: Parameters<ReturnType<typeof inProcessRunner>['retrain']> }
  | { id: number; kind: 'similar'; args: Parameters<ReturnType<typeof inProcessRunner>['similar']> };

const runner = inProcessRunner(createAwsStores(workerData as AwsConfig));

parentPort!.on('message', async (request: Request) => {
  try {
    const result =
      request.kind === 'retrain' ? await runner.retrain(...request.args) : await runner.similar(...request.args);
    parentPort!.postMessage({ id: request.id, result });
  } catch (err) {
    parentPort!.postMessage({ id: request.id, error: (err as Error).message });
  }
});
