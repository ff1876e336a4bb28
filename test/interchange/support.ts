// A project on the in-memory stores with ingested images of known upright sizes, for the import tests.

import { createMemoryStores, type MemoryStores } from '../../functions/adapters/memory/index.js';
import { imageIdFor } from '../../functions/domain/ingest.js';
import type { ImageRecord, Sample, TaskType } from '../../functions/domain/model.js';
import { createProject } from '../../functions/domain/projects.js';
import { ManualClock } from '../support/fixtures.js';

export const CELLS = ['RBC', 'WBC', 'Platelets'];

export interface Fixture {
  stores: MemoryStores;
  clock: ManualClock;
  projectId: string;
  /** Adds an image as ingest leaves it (record + whole-image sample); returns its id. */
  image(file: string, size?: { width: number; height: number }, over?: Partial<ImageRecord>): Promise<string>;
  /** Everything an import could have written, to assert that nothing was. */
  snapshot(): Promise<unknown>;
}

let n = 0;

export async function fixture(taskType: TaskType = 'box-review', classes = CELLS): Promise<Fixture> {
  const clock = new ManualClock();
  const stores = createMemoryStores(clock);
  const projectId = 'cells';
  await createProject(stores, { id: projectId, classes, taskType }, 'olga');
  return {
    stores,
    clock,
    projectId,
    async image(file, size = { width: 640, height: 480 }, over = {}) {
      const key = `uploads/${projectId}/${file}`;
      const imageId = imageIdFor(key);
      const order = `2026-11-22T09:00:${String(n++ % 60).padStart(2, '0')}.000Z|${file}`;
      await stores.blobs.put(key, new Uint8Array([1]), 'image/jpeg');
      await stores.samples.putImage({
        projectId, imageId, key, etag: 'e', bytes: 1, status: 'ready', ...size, order, createdAt: 'c', updatedAt: 'u', ...over,
      });
      if ((over.status ?? 'ready') === 'ready') {
        const sample: Sample = { projectId, sampleId: imageId, imageId, kind: 'image', version: 0, labeledBy: [], order: `${order}#0000`, queueKey: `${order}#0000`, createdAt: 'c' };
        await stores.samples.putSamplesIfAbsent([sample]);
      }
      return imageId;
    },
    async snapshot() {
      const samples = (await stores.samples.listSamples(projectId, { limit: 1000 })).items;
      const annotations = (await stores.annotations.listForProject(projectId, { limit: 1000 })).items;
      return { samples, annotations };
    },
  };
}
