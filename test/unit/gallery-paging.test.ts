// Key-paging with any filter: walking the cursors of the gallery, whatever the filter and page size, returns exactly
// the samples the filter names, each once, in key order (fast-check over random projects and filters, on the
// in-memory store; the store pages are sized by the filter's observed share, and requests stop mid-page).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { galleryPage, type GalleryFilter } from '../../functions/domain/gallery.js';
import type { Sample } from '../../functions/domain/model.js';
import { createProject } from '../../functions/domain/projects.js';
import { topClass } from '../../functions/domain/label-validation.js';
import { ManualClock, sampleFixture } from '../support/fixtures.js';

const CLASSES = ['a', 'b', 'c', 'd'];
const LABELERS = ['ann', 'bob', 'cy'];

const labelArb = fc.option(
  fc.record({ cls: fc.integer({ min: 0, max: 3 }), level: fc.constantFrom(0.5, 1), ambiguous: fc.boolean(), by: fc.constantFrom(...LABELERS), model: fc.boolean() }),
  { nil: undefined, freq: 3 },
);
const filterArb: fc.Arbitrary<GalleryFilter> = fc.record(
  {
    classIndex: fc.integer({ min: 0, max: 3 }),
    labelerId: fc.constantFrom(...LABELERS),
    source: fc.constantFrom('labeler' as const, 'model' as const),
    minConfidence: fc.constantFrom(0.4, 0.6),
    ambiguous: fc.boolean(),
    unlabeled: fc.boolean(),
  },
  { requiredKeys: [] },
);

/** Broad filters match more than the first guess of a store page's share, so requests stop in mid-page. */
const broadArb: fc.Arbitrary<GalleryFilter> = fc.constantFrom<GalleryFilter>({ unlabeled: false }, { source: 'labeler' }, { ambiguous: false }, { minConfidence: 0.4 });

function expectedIds(samples: Sample[], f: GalleryFilter): string[] {
  return samples
    .filter((s) => {
      const l = s.label;
      if (f.unlabeled !== undefined && f.unlabeled === !!l) return false;
      if (f.classIndex !== undefined && (!l || topClass(l.confidences) !== f.classIndex)) return false;
      if (f.labelerId !== undefined && l?.labelerId !== f.labelerId) return false;
      if (f.source !== undefined && (l?.source ?? 'labeler') !== f.source) return false;
      if (f.source !== undefined && !l) return false;
      if (f.ambiguous !== undefined && (!l || l.ambiguous !== f.ambiguous)) return false;
      if (f.minConfidence !== undefined) {
        const c = l ? (l.source === 'model' ? l.modelConfidence! : l.confidences[topClass(l.confidences)]) : undefined;
        if (c === undefined || c < f.minConfidence) return false;
      }
      return true;
    })
    .map((s) => s.sampleId)
    .sort();
}

describe('gallery key-paging', () => {
  it('walks exactly the filtered samples, once each, in key order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(labelArb, { minLength: 0, maxLength: 260 }), fc.oneof(filterArb, broadArb), fc.integer({ min: 1, max: 40 }), async (labels, filter, limit) => {
        const stores = createMemoryStores(new ManualClock());
        await createProject(stores, { id: 'p', classes: CLASSES }, 'olga');
        const samples = labels.map((l, i) =>
          sampleFixture('p', i + 1, {
            sampleId: `s${String(i).padStart(4, '0')}`,
            ...(l
              ? {
                  label: {
                    confidences: CLASSES.map((_, c) => (c === l.cls ? (l.model ? 1 : l.level) : 0)),
                    ambiguous: l.ambiguous,
                    labelerId: l.model ? 'model' : l.by,
                    at: '2026-11-22T10:00:00.000Z',
                    ...(l.model ? { source: 'model' as const, modelConfidence: l.level } : {}),
                  },
                  labeledBy: [l.model ? 'model' : l.by],
                  queueKey: undefined,
                  version: 1,
                }
              : {}),
          }),
        );
        await stores.samples.putSamplesIfAbsent(samples);
        const seen: string[] = [];
        let cursor: string | undefined;
        let requests = 0;
        do {
          const page = await galleryPage(stores, 'p', { filter, cursor, limit });
          expect(page.items.length).toBeLessThanOrEqual(limit);
          seen.push(...page.items.map((i) => i.sampleId));
          cursor = page.cursor;
          requests++;
        } while (cursor && requests < 1000);
        expect(seen).toEqual([...seen].sort());
        expect(seen).toEqual(expectedIds(samples, filter));
      }),
      { numRuns: 150, seed: 20261206 },
    );
  });
});
