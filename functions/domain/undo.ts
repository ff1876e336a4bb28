// Undo is itself an append-only annotation: it claims the next version of the sample and restores the state
// the undone label replaced. It never edits or deletes history, and it refuses (409) when someone else labeled
// the sample after the label being undone, rather than silently discarding their work.

import { applyToHead, repairHead, requireSample } from './annotate.js';
import { WinnowError } from './errors.js';
import type { Annotation, LabelerEntry, Sample } from './model.js';
import type { Stores } from './ports.js';
import { getProject } from './projects.js';

export interface UndoInput {
  projectId: string;
  labelerId: string;
  requestId: string;
  /** Undo the labeler's latest label on this sample instead of their latest label overall. */
  sampleId?: string;
}

export interface UndoResult {
  sample: Sample;
  undone: Annotation;
  replayed: boolean;
}

export async function undoLast(stores: Stores, input: UndoInput): Promise<UndoResult> {
  const project = await getProject(stores, input.projectId);
  const labeler = await stores.labelers.get(input.projectId, input.labelerId);
  const recent = labeler?.recent ?? [];
  const entry = [...recent].reverse().find((e) => !input.sampleId || e.sampleId === input.sampleId);

  if (!entry) {
    const replay = input.sampleId ? await findUndoReplay(stores, input, input.sampleId) : undefined;
    if (replay) return replay;
    throw new WinnowError('conflict', 'nothing to undo: you have no labels left in your recent history');
  }
  // The undone record and the head are read together. The head is rolled forward over a record a crashed writer left
  // unapplied only when it is not what the undo expects, or when the claim below finds such a record in the way: the
  // claim is conditional on the version, so a pending record can never be overtaken.
  const [undone, read] = await Promise.all([
    stores.annotations.get(input.projectId, entry.sampleId, entry.version),
    requireSample(stores, input.projectId, entry.sampleId),
  ]);
  if (!undone) throw new WinnowError('internal', `history entry for ${entry.sampleId} v${entry.version} is missing`);
  let sample = read;
  for (let repaired = false; ; repaired = true) {
    // The head must still be exactly the label being undone (possibly restored by undoing a later re-label).
    const headIsUndone = sample.label?.labelerId === undone.labelerId && sample.label?.at === undone.at;
    if (!headIsUndone && !repaired) {
      sample = await repairHead(stores, project, sample);
      continue;
    }
    if (!headIsUndone) {
      const replay = await findUndoReplay(stores, input, entry.sampleId);
      if (replay) return replay;
      throw new WinnowError(
        'conflict',
        `cannot undo: sample "${entry.sampleId}" was labeled again after your label`,
        { currentVersion: sample.version },
      );
    }
    const at = new Date(stores.clock.now()).toISOString();
    stores.samples.prepareAdvance?.(input.projectId); // as annotate: the head's mark goes out with the claim
    const { created, stored } = await stores.annotations.append(undoRecord(input, entry, undone, sample, at));
    if (!created && stored.requestId !== input.requestId) {
      if (!repaired) {
        sample = await repairHead(stores, project, sample);
        continue;
      }
      throw new WinnowError('conflict', `cannot undo: sample "${entry.sampleId}" changed while undoing; try again`);
    }
    // Both complete the logged undo and both are idempotent (a retry finishes either), so they run together.
    const [next] = await Promise.all([
      applyToHead(stores, project, sample, stored),
      stores.labelers.recordUndo(input.projectId, input.labelerId, entry, stored.at),
    ]);
    return { sample: next, undone, replayed: !created };
  }
}

function undoRecord(input: UndoInput, entry: LabelerEntry, undone: Annotation, sample: Sample, at: string): Annotation {
  return {
    projectId: input.projectId,
    sampleId: entry.sampleId,
    version: sample.version,
    kind: 'undo',
    labelerId: input.labelerId,
    confidences: [],
    ambiguous: false,
    undoes: entry.version,
    restores: undone.before,
    before: { ...(sample.label ? { label: sample.label } : {}), labeledBy: sample.labeledBy, ...(sample.inEffect ? { inEffect: sample.inEffect } : {}) },
    requestId: input.requestId,
    at,
  };
}

/** A retried undo whose first attempt got through: the sample's latest record is our undo. */
async function findUndoReplay(stores: Stores, input: UndoInput, sampleId: string): Promise<UndoResult | undefined> {
  const sample = await stores.samples.getSample(input.projectId, sampleId);
  if (!sample || sample.version === 0) return undefined;
  const last = await stores.annotations.get(input.projectId, sampleId, sample.version - 1);
  if (!last || last.kind !== 'undo' || last.requestId !== input.requestId || last.undoes === undefined) return undefined;
  const undone = await stores.annotations.get(input.projectId, sampleId, last.undoes);
  if (!undone) return undefined;
  await stores.labelers.recordUndo(
    input.projectId,
    input.labelerId,
    { sampleId, version: undone.version, requestId: undone.requestId },
    last.at,
  );
  return { sample, undone, replayed: true };
}
