// "You: N total" (issue 15 point 6): a labeler's total counts the samples they labeled, a re-label once, as the
// project's "labeled" count does; an undo takes its label back. In-memory stores, the real domain code.
import { describe, expect, it } from 'vitest';
import { annotate } from '../../functions/domain/annotate.js';
import { projectProgress } from '../../functions/domain/progress.js';
import { undoLast } from '../../functions/domain/undo.js';
import { projectWithSamples, rid } from '../support/fixtures.js';

describe('progress: my total', () => {
  it('counts a re-labeled sample once and agrees with the labeled count', async () => {
    const { stores } = await projectWithSamples(3);
    const label = async (sampleId: string, classIndex: number) => {
      const sample = (await stores.samples.getSample('flowers', sampleId))!;
      await annotate(stores, { projectId: 'flowers', sampleId, version: sample.version, labelerId: 'ann', classIndex, requestId: rid() });
    };
    await label('s1', 0);
    await label('s2', 1);
    await label('s1', 2); // re-label
    await label('s1', 1); // and again
    let progress = await projectProgress(stores, 'flowers', 'ann');
    expect({ labeled: progress.labeled, me: progress.me.total, today: progress.me.today }).toEqual({ labeled: 2, me: 2, today: 2 });
    expect(progress.labelers).toEqual([{ labelerId: 'ann', total: 2, today: 2 }]);

    await undoLast(stores, { projectId: 'flowers', labelerId: 'ann', requestId: rid(), sampleId: 's2' });
    await label('s3', 0);
    progress = await projectProgress(stores, 'flowers', 'ann');
    expect({ labeled: progress.labeled, me: progress.me.total }).toEqual({ labeled: 2, me: 2 });
  });
});
