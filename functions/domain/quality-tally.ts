// The quality view's sums, kept with the project's counts (issue 17: quality answers from aggregates, not by reading
// every label). Each sample head keeps the sums of its own label records' live points (`Sample.liveTally`), moved
// by the head's write that applies the label (annotate.ts applyToHead) and by a labeler's deletion; the sample store
// adds every head's tally into the project's counts as it adds the rest, so a dead writer's count is repaired by the
// recount and an image's deletion takes its samples' points away with them. Undo leaves them: the quality view has
// always counted every label record that has a live point, undone or not (each was a test point of the model that
// served it).
//
// All sums are integers (squared error in millionths, confidence in ten-thousandths: the precision annotate.ts
// stores them at), so the kept sums equal a full read's exactly whatever order labels came and went in.

import { auditTerms, scaleAuditUnits, type AuditSums } from './learning/audit.js';
import { squaredErrorUnits, type LiveErrorSums } from './learning/live-error.js';
import { topClass } from './label-validation.js';
import type { Annotation } from './model.js';

/** Counter name -> integer sum (names as in the project's counter item; absent = 0). */
export type LiveTally = Record<string, number>;

export const TALLY = {
  /** Served (non-audit) label points, their squared error in millionths, and how many had the wrong top class. */
  served: 'qs_n',
  squaredError: 'qs_se',
  servedWrong: 'qs_w',
  /** Audited label points (with the model's prediction and confidence), right, and the residual sums (audit.ts). */
  audited: 'qa_n',
  auditedRight: 'qa_r',
  residual: 'qa_res',
  residualSq: 'qa_res2',
  expectedVar: 'qa_var',
} as const;
const auditedOfClass = (k: number) => `qa_n${k}`;
const rightOfClass = (k: number) => `qa_r${k}`;
const PER_CLASS = /^qa_([nr])(\d+)$/;

/** Whether a counter name is one of the quality sums. */
export const isTallyName = (name: string) => name.startsWith('qs_') || name.startsWith('qa_');

/** A label record's contribution to the sums (undefined: none, e.g. no live point, or an undo). */
export function liveTallyOf(a: Pick<Annotation, 'kind' | 'live' | 'confidences'>): LiveTally | undefined {
  const live = a.kind === 'label' ? a.live : undefined;
  if (!live) return undefined;
  const t: LiveTally = {};
  if (!live.audit) {
    t[TALLY.served] = 1;
    t[TALLY.squaredError] = squaredErrorUnits(live.squaredError);
    if (!live.correct) t[TALLY.servedWrong] = 1;
    return dropZeros(t);
  }
  if (live.predicted === undefined || live.confidence === undefined) return undefined;
  const labelClass = topClass(a.confidences);
  const terms = auditTerms({ predicted: live.predicted, confidence: live.confidence, labelClass });
  t[TALLY.audited] = 1;
  if (terms.right) t[TALLY.auditedRight] = 1;
  t[TALLY.residual] = terms.residual;
  t[TALLY.residualSq] = terms.residualSq;
  t[TALLY.expectedVar] = terms.expectedVar;
  // Per class as the estimate counts them: labels of a class the project has (a negative one has none).
  if (labelClass >= 0) {
    t[auditedOfClass(labelClass)] = 1;
    if (terms.right) t[rightOfClass(labelClass)] = 1;
  }
  return dropZeros(t);
}

/** `tally` plus `sign` times `by` (a new object; zero sums left out; undefined when nothing is left). */
export function addTally(tally: LiveTally | undefined, by: LiveTally | undefined, sign: 1 | -1 = 1): LiveTally | undefined {
  const out: LiveTally = { ...(tally ?? {}) };
  for (const [name, v] of Object.entries(by ?? {})) out[name] = (out[name] ?? 0) + sign * v;
  const kept = dropZeros(out);
  return Object.keys(kept).length > 0 ? kept : undefined;
}

/** The sums of many label records (a sample's, or a project's from a full read). */
export function tallyOfRecords(records: Iterable<Pick<Annotation, 'kind' | 'live' | 'confidences'>>): LiveTally | undefined {
  let tally: LiveTally | undefined;
  for (const a of records) tally = addTally(tally, liveTallyOf(a));
  return tally;
}

/** What the estimators read, from the kept sums. */
export function qualitySums(tally: LiveTally | undefined, classes: number): { served: LiveErrorSums; audits: AuditSums } {
  const get = (name: string) => tally?.[name] ?? 0;
  const perClassN = new Array<number>(classes).fill(0);
  const perClassCorrect = new Array<number>(classes).fill(0);
  for (const [name, v] of Object.entries(tally ?? {})) {
    const m = PER_CLASS.exec(name);
    const k = m ? Number(m[2]) : -1;
    if (k < 0 || k >= classes) continue;
    if (m![1] === 'n') perClassN[k] = v;
    else perClassCorrect[k] = v;
  }
  return {
    served: { count: get(TALLY.served), squaredErrorUnits: get(TALLY.squaredError), wrong: get(TALLY.servedWrong) },
    audits: scaleAuditUnits({
      n: get(TALLY.audited),
      correct: get(TALLY.auditedRight),
      perClassN,
      perClassCorrect,
      residual: get(TALLY.residual),
      residualSq: get(TALLY.residualSq),
      expectedVar: get(TALLY.expectedVar),
    }),
  };
}

function dropZeros(t: LiveTally): LiveTally {
  for (const name of Object.keys(t)) if (t[name] === 0) delete t[name];
  return t;
}
