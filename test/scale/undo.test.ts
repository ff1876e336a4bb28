// Undo reads the undone record and the sample head together and rolls the head forward over a crashed writer's record
// only when it has to (functions/domain/undo.ts). What a labeler sees stays as before: their latest label is undone and
// the one it replaced is back; a label someone else logged before dying is never overtaken (409, and that label is on
// the sample afterwards); an undo whose first attempt logged its record and died is finished by its retry. On the
// in-memory fake and the DynamoDB adapters over dynalite.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { annotate } from '../../functions/domain/annotate.js';
import type { Annotation } from '../../functions/domain/model.js';
import type { Stores } from '../../functions/domain/ports.js';
import { createProject } from '../../functions/domain/projects.js';
import { undoLast } from '../../functions/domain/undo.js';
import { startDynalite } from '../../functions/local/emulators.js';
import { startAwsTarget, type AwsTarget } from '../contract/aws-target.js';
import { ShiftedClock } from '../contract/fixtures.js';
import { sampleFixture } from '../support/fixtures.js';

let seq = 0;
const rid = () => `undo-${++seq}-${Math.random().toString(36).slice(2, 8)}`;

function checks(name: string, open: () => Promise<{ stores: Stores; close: () => Promise<void> }>) {
  describe(`undo (${name})`, () => {
    let stores: Stores;
    let close: (() => Promise<void>) | undefined;
    const projectId = `undo-${name}-${Date.now().toString(36)}`;
    beforeAll(async () => {
      ({ stores, close } = await open());
      await createProject(stores, { id: projectId, classes: ['daisy', 'rose', 'tulip'], auditRate: 0 }, 'owner');
      await stores.samples.putSamplesIfAbsent(Array.from({ length: 6 }, (_, i) => sampleFixture(projectId, i + 1)));
    }, 60_000);
    afterAll(async () => close?.());

    const label = (sampleId: string, version: number, labelerId: string, classIndex: number) =>
      annotate(stores, { projectId, sampleId, version, labelerId, classIndex, requestId: rid() });

    it("undoes the labeler's latest label and brings back the one it replaced", async () => {
      await label('s1', 0, 'bob', 0);
      await label('s1', 1, 'ann', 2);
      await label('s2', 0, 'ann', 1);
      const first = await undoLast(stores, { projectId, labelerId: 'ann', requestId: rid() });
      expect(first.undone.sampleId).toBe('s2');
      expect((await stores.samples.getSample(projectId, 's2'))!.label).toBeUndefined();
      const second = await undoLast(stores, { projectId, labelerId: 'ann', requestId: rid() });
      expect(second.undone.sampleId).toBe('s1');
      const s1 = (await stores.samples.getSample(projectId, 's1'))!;
      expect(s1.label).toMatchObject({ labelerId: 'bob', confidences: [1, 0, 0] });
      expect((await stores.labelers.get(projectId, 'ann'))!.total).toBe(0);
    });

    it("never overtakes a label another writer logged before dying: 409, and that label is on the sample", async () => {
      const mine = await label('s3', 0, 'ann', 0);
      // Carol's label reached the log at the next version; her process died before moving the head.
      const theirs: Annotation = {
        projectId, sampleId: 's3', version: mine.sample.version, kind: 'label', labelerId: 'carol', confidences: [0, 1, 0],
        ambiguous: false, before: { label: mine.sample.label, labeledBy: mine.sample.labeledBy }, requestId: rid(), at: new Date(Date.now() + 1000).toISOString(),
      };
      expect((await stores.annotations.append(theirs)).created).toBe(true);
      const refused = await undoLast(stores, { projectId, labelerId: 'ann', requestId: rid(), sampleId: 's3' }).catch((e: { code?: string; message: string }) => e);
      expect(refused).toMatchObject({ code: 'conflict', message: expect.stringContaining('labeled again after your label') });
      const s3 = (await stores.samples.getSample(projectId, 's3'))!;
      expect(s3.label).toMatchObject({ labelerId: 'carol', confidences: [0, 1, 0] });
      expect((await stores.annotations.listForSample(projectId, 's3')).map((a) => a.kind)).toEqual(['label', 'label']);
    });

    it('finishes an undo whose first attempt logged its record and died, once, on retry', async () => {
      const mine = await label('s4', 0, 'dan', 1);
      const requestId = rid();
      const logged: Annotation = {
        projectId, sampleId: 's4', version: mine.sample.version, kind: 'undo', labelerId: 'dan', confidences: [], ambiguous: false,
        undoes: 0, restores: { labeledBy: [] }, before: { label: mine.sample.label, labeledBy: mine.sample.labeledBy }, requestId,
        at: new Date().toISOString(),
      };
      await stores.annotations.append(logged);
      const retry = await undoLast(stores, { projectId, labelerId: 'dan', requestId });
      expect(retry.replayed).toBe(true);
      expect(retry.undone.sampleId).toBe('s4');
      expect((await stores.samples.getSample(projectId, 's4'))!.label).toBeUndefined();
      expect((await stores.annotations.listForSample(projectId, 's4')).map((a) => a.kind)).toEqual(['label', 'undo']);
      expect((await stores.labelers.get(projectId, 'dan'))!.total).toBe(0);
      const again = await undoLast(stores, { projectId, labelerId: 'dan', requestId, sampleId: 's4' });
      expect(again.replayed).toBe(true);
      expect((await stores.annotations.listForSample(projectId, 's4'))).toHaveLength(2);
    });
  });
}

checks('memory', async () => ({ stores: createMemoryStores(new ShiftedClock()), close: async () => undefined }));

let target: AwsTarget | undefined;
checks('dynalite', async () => {
  target = await startAwsTarget(() => startDynalite());
  return { stores: target.stores, close: () => target!.close() };
});
