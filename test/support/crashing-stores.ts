// A process killed in the middle of a deletion: the memory stores with every delete failing after `after` calls.

import type { MemoryStores } from '../../functions/adapters/memory/index.js';

/** The stores, with deletes (sample and image records, objects) throwing 'process killed' after `after` calls. */
export function crashingAfter(stores: MemoryStores, after = 0): MemoryStores {
  let calls = 0;
  const killed = () => {
    if (++calls > after) throw new Error('process killed');
  };
  const samples = Object.create(stores.samples) as MemoryStores['samples'];
  samples.deleteSample = async (projectId, sampleId) => {
    killed();
    return stores.samples.deleteSample(projectId, sampleId);
  };
  samples.deleteMany = async (projectId, items) => {
    killed();
    return stores.samples.deleteMany(projectId, items);
  };
  const blobs = Object.create(stores.blobs) as MemoryStores['blobs'];
  blobs.deleteMany = async (keys) => {
    killed();
    return stores.blobs.deleteMany(keys);
  };
  return { ...stores, samples, blobs };
}
