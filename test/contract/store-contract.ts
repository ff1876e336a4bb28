// The storage contract: one suite per port, written once, run against every storage variant
// (in-memory fakes, dynalite + s3rver, DynamoDB Local + s3rver).

import { afterAll, beforeAll, describe } from 'vitest';
import type { StoreTarget } from './fixtures.js';
import { annotationStoreContract } from './ports/annotations.js';
import { blobStoreContract } from './ports/blobs.js';
import { deletionContract } from './ports/deletions.js';
import { labelerStoreContract } from './ports/labelers.js';
import { projectStoreContract } from './ports/projects.js';
import { rankingStoreContract } from './ports/rankings.js';
import { sampleStoreContract } from './ports/samples.js';

export interface RunningTarget extends StoreTarget {
  close(): Promise<void>;
}

/** Starts the variant once for the file; every test works in its own project or key prefix. */
export function storeContract(name: string, start: () => Promise<RunningTarget>): void {
  describe(`storage contract: ${name}`, () => {
    let running: RunningTarget | undefined;
    beforeAll(async () => {
      running = await start();
    });
    afterAll(async () => {
      await running?.close();
    });
    const target = (): StoreTarget => {
      if (!running) throw new Error(`${name} did not start`);
      return running;
    };
    projectStoreContract(target);
    sampleStoreContract(target);
    annotationStoreContract(target);
    labelerStoreContract(target);
    rankingStoreContract(target);
    blobStoreContract(target);
    deletionContract(target);
  });
}
