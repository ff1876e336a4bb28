// Labels answered once their annotation record is claimed (domain/label-completions.ts, the local stack's way): the
// answer comes before the head is written, every read waiting on `settled` sees the label, and a process that dies
// in between leaves a journal line that the next start completes.

import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { annotate } from '../../functions/domain/annotate.js';
import { finishUnfinished, LabelCompletionTracker } from '../../functions/domain/label-completions.js';
import type { LabelCompletions, PendingLabel, Stores } from '../../functions/domain/ports.js';
import { nextSamples } from '../../functions/domain/serving/next-samples.js';
import { FileLabelJournal, LABEL_JOURNAL_FILE } from '../../functions/local/label-journal.js';
import { projectWithSamples, rid } from '../support/fixtures.js';
import { tempDir } from '../support/stack.js';

const journalIn = async () => new FileLabelJournal(path.join(await tempDir('journal'), LABEL_JOURNAL_FILE));

/** The project's stores with sample-head writes held until `release()`. */
async function heldHeads(count = 2) {
  const { stores } = await projectWithSamples(count);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const samples = Object.create(stores.samples) as Stores['samples'];
  samples.advance = async (...args) => {
    await gate;
    return stores.samples.advance(...args);
  };
  return { stores, held: { ...stores, samples } as Stores, release };
}

async function labelFirst(stores: Stores, labelerId = 'ann') {
  const [s] = (await nextSamples(stores, { projectId: 'flowers', labelerId, count: 1, leaseMs: 60_000 })).samples;
  return annotate(stores, { projectId: 'flowers', sampleId: s.sampleId, version: s.version, labelerId, classIndex: 2, requestId: rid() });
}

describe('labels answered before their head is written', () => {
  it('answers with the head the write will leave; reads that wait on settled see the label and the progress', async () => {
    const { stores, held, release } = await heldHeads();
    const journal = await journalIn();
    const tracker = new LabelCompletionTracker(journal, () => undefined);
    const labeling: Stores = { ...held, labelCompletions: tracker };

    const result = await labelFirst(labeling);
    expect(result.sample).toMatchObject({ sampleId: 's1', version: 1, label: { confidences: [0, 0, 1], labelerId: 'ann' } });
    expect(result.sample.lease).toBeUndefined();
    // Answered: the record is claimed and noted, the head not yet written.
    expect(await stores.annotations.get('flowers', 's1', 0)).toMatchObject({ labelerId: 'ann' });
    expect((await stores.samples.getSample('flowers', 's1'))?.version).toBe(0);
    expect(journal.unfinished()).toEqual([expect.objectContaining({ projectId: 'flowers', sampleId: 's1', version: 0, labelerId: 'ann' })]);
    let settled = false;
    const settling = tracker.settled('flowers').then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);

    release();
    await settling;
    await result.completed;
    // What was answered is exactly what is stored, and the labeler's progress counts it.
    expect(await stores.samples.getSample('flowers', 's1')).toEqual(result.sample);
    expect((await stores.labelers.get('flowers', 'ann'))?.total).toBe(1);
    expect(journal.unfinished()).toEqual([]);
    expect(tracker.size).toBe(0);
  });

  it('serves the labeler the next sample at once, never the one just labeled', async () => {
    const { held, release } = await heldHeads(2);
    const labeling: Stores = { ...held, labelCompletions: new LabelCompletionTracker(await journalIn(), () => undefined) };
    await labelFirst(labeling);
    const again = await nextSamples(labeling, { projectId: 'flowers', labelerId: 'ann', count: 1, leaseMs: 60_000 });
    expect(again.samples.map((s) => s.sampleId)).toEqual(['s2']);
    release();
  });

  it('tries a completion that fails on the way again until it lands', async () => {
    const { stores } = await projectWithSamples(1);
    let failures = 2;
    const samples = Object.create(stores.samples) as Stores['samples'];
    samples.advance = async (...args) => {
      if (failures-- > 0) throw new Error('socket hang up');
      return stores.samples.advance(...args);
    };
    const journal = await journalIn();
    const result = await labelFirst({ ...stores, samples, labelCompletions: new LabelCompletionTracker(journal, () => undefined, [1, 1, 1]) });
    await result.completed;
    expect((await stores.samples.getSample('flowers', 's1'))?.version).toBe(1);
    expect((await stores.labelers.get('flowers', 'ann'))?.total).toBe(1);
    expect(journal.unfinished()).toEqual([]);
  });

  it('closes the journal line of a label refused (someone labeled the sample first)', async () => {
    const { stores } = await projectWithSamples(1);
    const journal = await journalIn();
    const labeling: Stores = { ...stores, labelCompletions: new LabelCompletionTracker(journal, () => undefined) };
    await (await labelFirst(labeling)).completed;
    const stale = annotate(labeling, { projectId: 'flowers', sampleId: 's1', version: 0, labelerId: 'bob', classIndex: 0, requestId: rid() });
    await expect(stale).rejects.toMatchObject({ code: 'stale_version' });
    expect(journal.unfinished()).toEqual([]);
  });

  it('completes a label whose claim landed though its answer from the store was lost', async () => {
    const { stores } = await projectWithSamples(1);
    const annotations = Object.create(stores.annotations) as Stores['annotations'];
    annotations.append = async (a) => {
      await stores.annotations.append(a);
      throw new Error('read ECONNRESET');
    };
    const journal = await journalIn();
    const tracker = new LabelCompletionTracker(journal, () => undefined, [1]);
    await expect(labelFirst({ ...stores, annotations, labelCompletions: tracker })).rejects.toThrow('ECONNRESET');
    await tracker.settled('flowers');
    expect(await stores.samples.getSample('flowers', 's1')).toMatchObject({ version: 1, labeledBy: ['ann'] });
    expect((await stores.labelers.get('flowers', 'ann'))?.total).toBe(1);
    expect(journal.unfinished()).toEqual([]);
  });

  it('a process that died after answering: the next start completes the label from the journal, once', async () => {
    const { stores } = await projectWithSamples(2);
    const journal = await journalIn();
    // Dies right after answering: the journal line is written, the completion never runs.
    const dying: LabelCompletions = {
      begin: (label: PendingLabel) => ({ token: journal.open(label), label }),
      complete: () => new Promise<void>(() => undefined),
      abandon: ({ token }) => journal.close(token),
      settled: async () => undefined,
    };
    const answered = await labelFirst({ ...stores, labelCompletions: dying });
    expect((await stores.samples.getSample('flowers', 's1'))?.version).toBe(0);

    const restarted = new FileLabelJournal(journal.file);
    const lines: string[] = [];
    expect(await finishUnfinished(stores, restarted, (l) => lines.push(l))).toBe(1);
    expect(lines.join('\n')).toContain('completed 1 label(s) claimed before the last stop');
    expect(await stores.samples.getSample('flowers', 's1')).toMatchObject({ version: 1, label: answered.sample.label, labeledBy: ['ann'] });
    expect((await stores.samples.counts('flowers')).byDepth).toMatchObject({ 0: 1, 1: 1 });
    expect((await stores.labelers.get('flowers', 'ann'))?.total).toBe(1);
    // Nothing left open, and a second start changes nothing.
    expect(restarted.unfinished()).toEqual([]);
    expect(await finishUnfinished(stores, new FileLabelJournal(journal.file), () => undefined)).toBe(0);
    expect((await stores.labelers.get('flowers', 'ann'))?.total).toBe(1);
  });
});

describe('the label journal file', () => {
  it('keeps the labels left open across a reopen and skips a line cut short', async () => {
    const journal = await journalIn();
    const label = (sampleId: string): PendingLabel => ({ projectId: 'p', sampleId, version: 3, labelerId: 'ann', requestId: `r-${sampleId}` });
    const a = journal.open(label('a'));
    journal.open(label('b'));
    journal.close(a);
    appendFileSync(journal.file, '{"open":9,"projectId":"p","sampl');
    const reopened = new FileLabelJournal(journal.file);
    expect(reopened.unfinished()).toEqual([label('b')]);
    // New entries never reuse a token of the file.
    const c = reopened.open(label('c'));
    expect(c).toBeGreaterThan(a);
    reopened.close(c);
    expect(new FileLabelJournal(journal.file).unfinished()).toEqual([label('b')]);
    reopened.clear();
    expect(new FileLabelJournal(journal.file).unfinished()).toEqual([]);
  });
});
