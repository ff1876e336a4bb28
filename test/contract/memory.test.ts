import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { ShiftedClock } from './fixtures.js';
import { storeContract } from './store-contract.js';

storeContract('in-memory fakes', async () => {
  const clock = new ShiftedClock();
  const stores = createMemoryStores(clock);
  return { stores, clock, fetchPresigned: (url, init) => stores.blobs.fetchPresigned(url, init), close: async () => {} };
});
