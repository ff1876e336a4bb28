// The store contract on dynalite as the local stack runs it: in a child process behind the signature guard, its
// LevelDB reads made on the child's own thread (emulators.ts) and its data in a folder.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDynaliteProcess } from '../../functions/local/emulators.js';
import { startAwsTarget } from './aws-target.js';
import { storeContract } from './store-contract.js';

storeContract('AWS adapters on the dynalite child process + s3rver', () =>
  startAwsTarget(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'winnow-dynalite-child-'));
    const emulator = await startDynaliteProcess({ dir });
    return { endpoint: emulator.endpoint, close: async () => (await emulator.close(), await rm(dir, { recursive: true, force: true })) };
  }),
);
