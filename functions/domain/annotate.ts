// Writing a label. The safety argument, without transactions:
//  1. The annotation record keyed by (sample, version) is claimed with one conditional put: at most one writer
//     can ever own a given version, and a retry with the same requestId finds its own record.
//  2. The sample head moves from version v to v+1 with a condition on v. The annotation log is the truth; the head
//     is derived from it, so if a writer dies between 1 and 2, the next writer (or its own retry) rolls the head
//     forward from the log before doing anything else ("repair"). Nothing is lost and nothing lands twice.
//  3. The labeler's progress is recorded after the claim (alongside step 2), idempotently by requestId; a retry
//     completes it.
// On the answer's path that is two round trips in sequence: the claim, then the head and the progress together (what
// the head's write waits for in the store, such as the count's mark, is asked for alongside the claim). Where the
// process outlives its answers (the local stack), steps 2 and 3 complete just after the answer instead
// (label-completions.ts): one round trip.
// A label from the labeler this process just served skips reading the sample first (serving/head-memory.ts explains why
// the claim in step 1 still catches every case that read would have).

import { ConditionFailed, notFound, WinnowError } from './errors.js';
import { inEffectAfter } from './agreement.js';
import { normalizeLabel, type LabelInput } from './label-validation.js';
import { liveErrorPoint } from './learning/live-error.js';
import type { Annotation, LabelHead, Project, Sample, SampleLabelState } from './model.js';
import type { HeadAdvance, PendingLabel, Stores } from './ports.js';
import { getProject } from './projects.js';
import { addTally, liveTallyOf } from './quality-tally.js';
import { advancedHead } from './sample-advance.js';
import { servingMemory } from './serving/head-memory.js';

export interface AnnotateInput extends LabelInput {
  projectId: string;
  sampleId: string;
  /** The sample version the labeler saw. */
  version: number;
  labelerId: string;
  requestId: string;
}

export interface AnnotateResult {
  sample: Sample;
  annotation: Annotation;
  /** True when this call only acknowledged an earlier identical write (same requestId). */
  replayed: boolean;
  /**
   * Present when the head and the labeler's progress complete after the answer (Stores.labelCompletions): resolves
   * once they are written, rejects if they could not be (then the next start completes them).
   */
  completed?: Promise<void>;
}

export async function annotate(stores: Stores, input: AnnotateInput): Promise<AnnotateResult> {
  const project = await getProject(stores, input.projectId);
  const label = normalizeLabel(project, input);
  const now = stores.clock.now();
  // The usual label comes from the labeler this process just leased the sample to: its head is known (see
  // ServingMemory.leasedTo), and the conditional claim of the annotation record below checks that it still is.
  let sample = servingMemory(stores.samples).leasedTo(input.projectId, input.sampleId, input.labelerId, input.version, now);
  if (!sample) {
    // A label of this process still completing on it is written first (it would only be repaired again).
    await stores.labelCompletions?.settled(input.projectId, input.sampleId);
    const head = await currentHead(stores, project, input, now);
    if ('replay' in head) return head.replay;
    sample = head;
  }

  const at = new Date(now).toISOString();
  const head: LabelHead = { ...label, labelerId: input.labelerId, at };
  const annotation: Annotation = {
    projectId: input.projectId,
    sampleId: input.sampleId,
    version: input.version,
    kind: 'label',
    labelerId: input.labelerId,
    confidences: label.confidences,
    ambiguous: label.ambiguous,
    ...(label.boxes ? { boxes: label.boxes } : {}),
    before: { ...(sample.label ? { label: sample.label } : {}), labeledBy: sample.labeledBy, ...(sample.inEffect ? { inEffect: sample.inEffect } : {}) },
    requestId: input.requestId,
    at,
  };
  // The model's view at lease time against the label, before training on it: the error on the (uncertain) samples
  // served, and for audit draws (a uniform random sample, learning/audit.ts) the honest accuracy estimate.
  const mine = sample.lease?.labelerId === input.labelerId ? sample.lease : undefined;
  const live = liveErrorPoint(mine?.probs, label.confidences, label.ambiguous);
  if (live) {
    annotation.live = {
      squaredError: Math.round(live.squaredError * 1e6) / 1e6,
      correct: live.correct,
      predicted: live.predicted,
      confidence: live.confidence,
      ...(mine?.audit ? { audit: true } : {}),
    };
  }
  // Whatever the head's advance waits for besides the claim (the count's mark) goes out with the claim.
  stores.samples.prepareAdvance?.(input.projectId);
  const deferred = stores.labelCompletions;
  const pending: PendingLabel = { projectId: input.projectId, sampleId: input.sampleId, version: input.version, labelerId: input.labelerId, requestId: input.requestId };
  const ticket = deferred?.begin(pending);
  let claim: Awaited<ReturnType<Stores['annotations']['append']>>;
  try {
    claim = await stores.annotations.append(annotation);
  } catch (err) {
    // It may have landed all the same: completed if it did (now, or at the next start).
    if (ticket) void deferred!.complete(ticket, async () => void (await finishClaimedLabel(stores, pending))).catch(() => undefined);
    throw err;
  }
  const { created, stored } = claim;
  if (!created) {
    try {
      if (stored.requestId === input.requestId) return (await findOwnWrite(stores, input))!;
      await repairHead(stores, project, sample);
      throw staleVersion({ ...sample, version: sample.version + 1 }, input.version);
    } finally {
      if (ticket) deferred!.abandon(ticket);
    }
  }
  // Both complete the logged annotation and both are idempotent (a retry finishes either), so they run together.
  const claimed = sample;
  const complete = () =>
    Promise.all([
      applyToHead(stores, project, claimed, annotation),
      stores.labelers.recordLabel(input.projectId, input.labelerId, { sampleId: input.sampleId, version: input.version, requestId: input.requestId }, at),
    ]);
  if (!ticket) {
    const [next] = await complete();
    return { sample: next, annotation, replayed: false };
  }
  // Answered now; this process serves the head the advance is writing (label-completions.ts).
  const next = advancedHead(sample, sample.version, headAdvance(project, sample, annotation));
  servingMemory(stores.samples).learn(next, now);
  const completed = deferred!.complete(ticket, async () => void (await complete()));
  return { sample: next, annotation, replayed: false, completed };
}

/** The sample as stored (rolled forward over any unapplied record), checked against the version and lease given. */
async function currentHead(stores: Stores, project: Project, input: AnnotateInput, now: number): Promise<Sample | { replay: AnnotateResult }> {
  const sample = await repairHead(stores, project, await requireSample(stores, input.projectId, input.sampleId));
  if (sample.version !== input.version) {
    // After the repair, a record at the given version exists only if the sample moved past it: maybe our own retry.
    const replay = await findOwnWrite(stores, input);
    if (replay) return { replay };
    throw staleVersion(sample, input.version);
  }
  if (sample.lease && sample.lease.labelerId !== input.labelerId && sample.lease.until > now) {
    throw new WinnowError('lease_conflict', `sample is being labeled by ${sample.lease.labelerId}`, {
      leasedUntil: sample.lease.until,
    });
  }
  return sample;
}

/** The state a sample has after a label annotation (labeledBy gains the labeler, the head is the new label). */
export function stateAfter(project: Project, before: SampleLabelState, a: Annotation): SampleLabelState {
  if (a.kind === 'undo') return a.restores ?? { labeledBy: [] };
  const labeledBy = before.labeledBy.includes(a.labelerId) ? before.labeledBy : [...before.labeledBy, a.labelerId];
  const label: LabelHead = {
    confidences: a.confidences,
    ambiguous: a.ambiguous,
    ...(a.boxes ? { boxes: a.boxes } : {}),
    labelerId: a.labelerId,
    at: a.at,
  };
  return { label, labeledBy, ...inEffectAfter(before, a, labeledBy) };
}

/** What annotation `a` (at the sample's version) sets on the head. */
function headAdvance(project: Project, sample: Sample, a: Annotation): HeadAdvance {
  const state = stateAfter(project, { label: sample.label, labeledBy: sample.labeledBy, ...(sample.inEffect ? { inEffect: sample.inEffect } : {}) }, a);
  const needsLabels = state.labeledBy.length < project.overlap;
  // The label's live point joins the head's quality sums, counted with the rest in this same write (quality-tally.ts).
  const live = liveTallyOf(a);
  return {
    ...(state.label ? { label: state.label } : {}),
    labeledBy: state.labeledBy,
    ...(state.inEffect ? { inEffect: state.inEffect } : {}),
    ...(needsLabels ? { queueKey: sample.order } : {}),
    ...(live ? { liveTally: addTally(sample.liveTally, live) } : {}),
  };
}

/** Moves the head from annotation.version to +1; tolerates someone else having done exactly that already. */
export async function applyToHead(stores: Stores, project: Project, sample: Sample, a: Annotation): Promise<Sample> {
  const at = stores.clock.now();
  try {
    const next = await stores.samples.advance(project.id, sample.sampleId, a.version, headAdvance(project, sample, a));
    servingMemory(stores.samples).learn(next, at);
    return next;
  } catch (err) {
    if (!(err instanceof ConditionFailed)) throw err;
    const now = await requireSample(stores, project.id, sample.sampleId);
    if (now.version > a.version) return now; // a concurrent repair applied it
    throw err;
  }
}

/** Rolls the head forward over any annotation records a crashed writer left unapplied. */
export async function repairHead(stores: Stores, project: Project, sample: Sample): Promise<Sample> {
  let current = sample;
  for (;;) {
    const pending = await stores.annotations.get(project.id, current.sampleId, current.version);
    if (!pending) return current;
    current = await applyToHead(stores, project, current, pending);
  }
}

/**
 * Completes a label whose annotation record was claimed but whose head and labeler progress may not have been
 * written (a process that died after answering it: label-completions.ts). False if no such record exists.
 */
export async function finishClaimedLabel(stores: Stores, label: PendingLabel): Promise<boolean> {
  return (await findOwnWrite(stores, label)) !== undefined;
}

async function findOwnWrite(stores: Stores, input: Omit<PendingLabel, 'labelerId'>): Promise<AnnotateResult | undefined> {
  const existing = await stores.annotations.get(input.projectId, input.sampleId, input.version);
  if (!existing || existing.requestId !== input.requestId) return undefined;
  // A retry of a write that reached the log: finish whatever the first attempt may not have.
  const project = await getProject(stores, input.projectId);
  const sample = await repairHead(stores, project, await requireSample(stores, input.projectId, input.sampleId));
  if (existing.kind === 'label') {
    await stores.labelers.recordLabel(
      input.projectId,
      existing.labelerId,
      { sampleId: input.sampleId, version: existing.version, requestId: existing.requestId },
      existing.at,
    );
  }
  return { sample, annotation: existing, replayed: true };
}

export async function requireSample(stores: Stores, projectId: string, sampleId: string): Promise<Sample> {
  const at = stores.clock.now();
  const sample = await stores.samples.getSample(projectId, sampleId);
  if (!sample) throw notFound(`sample "${sampleId}" in project "${projectId}"`);
  servingMemory(stores.samples).learn(sample, at);
  return sample;
}

function staleVersion(sample: Sample, given: number): WinnowError {
  return new WinnowError(
    'stale_version',
    `sample "${sample.sampleId}" is at version ${sample.version}, not ${given}: someone labeled it since; reload it`,
    { currentVersion: sample.version },
  );
}
