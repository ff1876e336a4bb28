// Work no request is waiting for (a label's completion after its answer, a sample leased ahead): marked so that a
// store adapter may let calls a person is waiting for go first (the local stack's store thread does). The mark
// follows the work through every await and every call it starts.

import { AsyncLocalStorage } from 'node:async_hooks';

const background = new AsyncLocalStorage<true>();

/** Runs `work` marked as background work. */
export const inBackground = <T>(work: () => Promise<T>): Promise<T> => background.run(true, work);

/** Whether the caller runs inside `inBackground`. */
export const isBackground = (): boolean => background.getStore() === true;
