// Small builders shared by the unit and API tests.

import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import type { Sample } from '../../functions/domain/model.js';
import type { Clock, Stores } from '../../functions/domain/ports.js';
import { createProject, type NewProject } from '../../functions/domain/projects.js';

export class ManualClock implements Clock {
  constructor(public t = Date.parse('2026-11-22T10:00:00Z')) {}
  now() {
    return this.t;
  }
  advance(ms: number) {
    this.t += ms;
  }
}

export function sampleFixture(projectId: string, n: number, over: Partial<Sample> = {}): Sample {
  const order = `2026-11-22T09:00:${String(n).padStart(2, '0')}.000Z|img${n}.jpg#0000`;
  return {
    projectId,
    sampleId: `s${n}`,
    imageId: `i${n}`,
    kind: 'image',
    version: 0,
    labeledBy: [],
    order,
    queueKey: order,
    createdAt: '2026-11-22T09:00:00.000Z',
    ...over,
  };
}

export async function projectWithSamples(
  count: number,
  project: Partial<NewProject> = {},
  clock = new ManualClock(),
): Promise<{ stores: Stores; clock: ManualClock }> {
  const stores = createMemoryStores(clock);
  // No audit draws unless a test asks: serving order is then the ranking's, exactly.
  await createProject(stores, { id: 'flowers', classes: ['daisy', 'rose', 'tulip'], auditRate: 0, ...project }, 'owner');
  await stores.samples.putSamplesIfAbsent(Array.from({ length: count }, (_, i) => sampleFixture(project.id ?? 'flowers', i + 1)));
  return { stores, clock };
}

let counter = 0;
export const rid = () => `req-${Date.now()}-${++counter}`;
