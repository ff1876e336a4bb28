import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { storeContract } from './store-contract.js';

storeContract('in-memory fakes', async () => {
  const stores = createMemoryStores();
  return { stores, fetchPresigned: (url, init) => stores.blobs.fetchPresigned(url, init), close: async () => {} };
});
