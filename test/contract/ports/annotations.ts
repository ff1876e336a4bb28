import { describe, expect, it } from 'vitest';
import type { Annotation } from '../../../functions/domain/model.js';
import { anAnnotation, uniqueId, type StoreTarget } from '../fixtures.js';

export function annotationStoreContract(target: () => StoreTarget): void {
  describe('AnnotationStore', () => {
    it('claims a sample version once: a second append gets the first record back', async () => {
      const { annotations } = target().stores;
      const projectId = uniqueId('p');
      const first = anAnnotation(projectId, 's1', 0, { labelerId: 'ana', confidences: [1, 0, 0] });
      const rival = anAnnotation(projectId, 's1', 0, { labelerId: 'ben', confidences: [0, 1, 0] });
      expect(await annotations.append(first)).toEqual({ created: true, stored: first });
      expect(await annotations.append(rival)).toEqual({ created: false, stored: first });
      // A retry of the very same write is acknowledged the same way (idempotent by version).
      expect(await annotations.append(first)).toEqual({ created: false, stored: first });
      expect(await annotations.get(projectId, 's1', 0)).toEqual(first);
    });

    it('keeps a sample history oldest first, with undo records and their before state', async () => {
      const { annotations } = target().stores;
      const projectId = uniqueId('p');
      const label = anAnnotation(projectId, 's1', 0);
      const undo = anAnnotation(projectId, 's1', 1, {
        kind: 'undo',
        confidences: [],
        undoes: 0,
        before: { label: { confidences: [1, 0, 0], ambiguous: false, labelerId: 'ana', at: label.at }, labeledBy: ['ana'] },
      });
      const relabel = anAnnotation(projectId, 's1', 2, { confidences: [0, 0, 1] });
      for (const a of [relabel, label, undo]) await annotations.append(a);
      expect(await annotations.listForSample(projectId, 's1')).toEqual([label, undo, relabel]);
      expect(await annotations.listForSample(projectId, 'other')).toEqual([]);
      expect(await annotations.get(projectId, 's1', 7)).toBeUndefined();
    });

    it('exports a project page by page in (sample, version) order', async () => {
      const { annotations } = target().stores;
      const projectId = uniqueId('p');
      const expected: Annotation[] = [];
      for (const sampleId of ['s-a', 's-b', 's-c']) {
        for (const version of [0, 1, 2, 10]) expected.push(anAnnotation(projectId, sampleId, version));
      }
      // Written out of order; another project's records must not leak in.
      for (const a of [...expected].reverse()) await annotations.append(a);
      await annotations.append(anAnnotation(uniqueId('other'), 's-a', 0));

      const pages: Annotation[][] = [];
      let cursor: string | undefined;
      do {
        const page = await annotations.listForProject(projectId, { cursor, limit: 5 });
        pages.push(page.items);
        cursor = page.cursor;
      } while (cursor);
      expect(pages.map((p) => p.length)).toEqual([5, 5, 2]);
      expect(pages.flat()).toEqual(expected);
    });

    it('ends the export with a cursor-free page when the last page is exactly full', async () => {
      const { annotations } = target().stores;
      const projectId = uniqueId('p');
      for (const version of [0, 1, 2, 3]) await annotations.append(anAnnotation(projectId, 's1', version));
      const first = await annotations.listForProject(projectId, { limit: 2 });
      const second = await annotations.listForProject(projectId, { limit: 2, cursor: first.cursor });
      expect(first.cursor).toBeDefined();
      expect(second.items.map((a) => a.version)).toEqual([2, 3]);
      expect(second.cursor).toBeUndefined();
    });
  });
}
