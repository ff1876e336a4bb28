// Carrying out a clean plan. Labels go through `annotate` like any labeler's write (conditional on the version the
// plan read, append-only history, so an overwrite keeps what was there); proposals replace the sample's proposals.
//
// Idempotent: a label's requestId derives from the sample, the version it applies to and the label itself. If an
// earlier run died after appending the annotation but before moving the sample's head, the re-run computes the same
// requestId at the same version and `annotate` finishes that write instead of making a second one; after a complete
// run the plan finds the label already there and writes nothing.

import { createHash } from 'node:crypto';
import { mapBounded } from '../../concurrency.js';
import { annotate } from '../../annotate.js';
import { WinnowError } from '../../errors.js';
import type { Project } from '../../model.js';
import type { Stores } from '../../ports.js';
import { describeStep, fillActions, type PlannedStep, type PlanOptions } from './plan.js';

const CONCURRENCY = 8;

export interface Applied {
  /** Samples whose label changed (to retrain on). */
  labeledSampleIds: string[];
  proposed: number;
  /** Writes that found the sample changed since planning (someone labeled or took it meanwhile). */
  keptMeanwhile: number;
}

export function importRequestId(projectId: string, step: Pick<PlannedStep, 'sampleId' | 'label'>, version: number): string {
  const digest = createHash('sha256').update(`${projectId}|${step.sampleId}|${version}|${JSON.stringify(step.label)}`).digest('hex');
  return `import-${digest.slice(0, 32)}`;
}

export async function applyPlan(stores: Stores, project: Project, steps: PlannedStep[], labelerId: string, opts: PlanOptions): Promise<Applied> {
  const applied: Applied = { labeledSampleIds: [], proposed: 0, keptMeanwhile: 0 };
  await mapBounded(steps.filter((s) => s.intent === 'write'), CONCURRENCY, async (step) => {
    if (step.proposals) {
      const updated = await stores.samples.setProposals(project.id, step.sampleId, step.proposals);
      if (updated) applied.proposed++;
      else describeStep(step, opts, `sample ${step.sampleId} disappeared before its proposals were written`);
      return;
    }
    try {
      const result = await annotate(stores, {
        projectId: project.id,
        sampleId: step.sampleId,
        version: step.head.version,
        labelerId,
        requestId: importRequestId(project.id, step, step.head.version),
        ...step.label!,
      });
      await result.completed; // the import's report and the retrain it triggers read the heads
      applied.labeledSampleIds.push(step.sampleId);
    } catch (err) {
      if (!(err instanceof WinnowError) || (err.code !== 'stale_version' && err.code !== 'lease_conflict')) throw err;
      // Someone labeled it, or is labeling it, since the plan read it: their work stands.
      applied.keptMeanwhile++;
      step.intent = 'keep';
      describeStep(step, opts, err.code === 'lease_conflict' ? `kept: ${err.message}` : 'kept: labeled by someone else during the import');
    }
  });
  fillActions(steps);
  return applied;
}
