// What the labeling view says about the model, from the labels themselves:
//  - accuracy: the audit stream's estimate (learning/audit.ts), the model's accuracy on images it has not been
//    trained on, with a 95% interval, the number of audited labels it rests on, and per class;
//  - the error on the samples served: every label was an unseen test point for the model that chose the sample, but
//    active learning chooses the samples it is least sure about, so this error (in label order, for the chart) says
//    how hard the served samples are, never how accurate the model is.

import { auditEvidence, auditRate, auditSums, estimateFromSums, type AuditPoint, type AuditSums } from './learning/audit.js';
import { liveErrorSums, liveErrorTail, type LiveErrorPoint, type LiveErrorSums } from './learning/live-error.js';
import { topClass } from './label-validation.js';
import type { Annotation, Project, RankedQueue } from './model.js';
import type { Stores } from './ports.js';
import { getProject } from './projects.js';
import { repairCounts } from './progress-tally.js';
import { qualitySums } from './quality-tally.js';
import { modelState } from './serving/next-samples.js';
import { auditPositions } from './serving/lease-walk.js';

/** Points sent to the chart; aggregates always cover every point. */
export const MAX_POINTS = 2000;

/**
 * `defaultAuditRate`: the deployment's audit rate, for projects without their own. Answers from the sums kept with
 * the project's counts (quality-tally.ts) and the newest served labels (one bounded query), whatever the number of
 * labels; a project whose counts were kept before those sums existed is read in full (projectQualityByScan).
 */
export async function projectQuality(stores: Stores, projectId: string, defaultAuditRate?: number, window = 50) {
  const project = await getProject(stores, projectId);
  const need = MAX_POINTS + window - 1;
  const [kept, ranking, newestFirst] = await Promise.all([
    stores.samples.counts(projectId),
    stores.rankings.get(projectId),
    stores.annotations.newestServed(projectId, need),
  ]);
  if (kept.repairNeeded) void repairCounts(stores, projectId).catch(() => undefined);
  if (kept.qualityKept === false) return projectQualityByScan(stores, projectId, defaultAuditRate, window);
  const sums = qualitySums(kept.quality, project.classes.length);
  // The newest served labels, oldest first. Normally exactly the series' last ones; a label whose head is not written
  // yet (its writer on its way, or died: repaired when its sample is next written) or an image's labels not yet swept
  // by its deletion can make them more than the sums count (the newest are kept), an index behind its table fewer
  // (the chart then shows fewer points).
  const newest = newestFirst.slice(0, sums.served.count).reverse();
  const complete = newest.length === Math.min(sums.served.count, need);
  const shown = complete ? MAX_POINTS : Math.max(0, Math.min(MAX_POINTS, newest.length - (window - 1)));
  const points = newest.map((a) => ({ ...(a.live as LiveErrorPoint), at: a.at }));
  return answer(project, ranking, defaultAuditRate, sums.audits, sums.served, points, window, shown);
}

/**
 * The same answer from a full read of the project's label records (every live point, in label order): the reference
 * the kept sums are checked against, and the answer for counts kept before those sums existed.
 */
export async function projectQualityByScan(stores: Stores, projectId: string, defaultAuditRate?: number, window = 50) {
  const project = await getProject(stores, projectId);
  const labels: Annotation[] = [];
  let cursor: string | undefined;
  do {
    const page = await stores.annotations.listForProject(projectId, { cursor, limit: 1000 });
    for (const a of page.items) if (a.kind === 'label' && a.live) labels.push(a);
    cursor = page.cursor;
  } while (cursor);
  labels.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const served = labels.filter((a) => !a.live!.audit);
  const points = served.map((a) => ({ ...(a.live as LiveErrorPoint), at: a.at }));
  const ranking = await stores.rankings.get(projectId);
  const audits: AuditPoint[] = labels
    .filter((a) => a.live!.audit && a.live!.predicted !== undefined && a.live!.confidence !== undefined)
    .map((a) => ({ predicted: a.live!.predicted!, confidence: a.live!.confidence!, labelClass: topClass(a.confidences) }));
  const sums = auditSums(audits, project.classes.length);
  return answer(project, ranking, defaultAuditRate, sums, liveErrorSums(points), points, window, MAX_POINTS);
}

function answer(
  project: Project,
  ranking: RankedQueue | undefined,
  defaultAuditRate: number | undefined,
  audits: AuditSums,
  served: LiveErrorSums,
  /** The newest served points (or all), oldest first, with their label times. */
  newest: (LiveErrorPoint & { at: string })[],
  window: number,
  maxPoints: number,
) {
  const series = liveErrorTail(served, newest, window, maxPoints);
  const first = served.count - newest.length;
  const rate = auditRate(project.auditRate, defaultAuditRate);
  // The current model's mean confidence on the audit set's unlabeled samples, corrected by the calibration error the
  // audits show (audit.ts estimateFromSums), read from the latest retrain's out-of-fold verdicts (auditEvidence).
  const auditSet = auditSetConfidence(project, ranking, rate);
  const evidence = auditEvidence(ranking?.heldOutAudits, audits);
  const estimate = estimateFromSums(evidence.sums, project.classes.length, auditSet ?? {});
  return {
    model: modelState(project, ranking),
    accuracy: {
      ...estimate,
      // 'held-out': each audited label scored by the latest retrain's model that did not train on it; 'at-lease': by
      // the model that served it.
      scoredBy: evidence.scoredBy,
      rate,
      perClass: estimate.perClass.map((c) => ({ ...c, name: project.classes[c.classIndex] })),
    },
    // The error on the samples served (selected for being uncertain): not an accuracy.
    count: series.count,
    window: series.window,
    mse: finite(series.mse),
    errorRate: finite(series.errorRate),
    windowErrorRate: finite(series.windowErrorRate),
    points: series.points.map((p) => ({
      index: p.index,
      at: newest[p.index - first].at,
      squaredError: p.squaredError,
      correct: p.correct,
      runningMse: p.runningMse,
      runningErrorRate: p.runningErrorRate,
      windowErrorRate: p.windowErrorRate,
    })),
  };
}

/**
 * The current model's mean top probability over the audit set's unlabeled samples (the audit draws' population) and
 * over how many: the ranking's audit-set rows, which the trainer keeps as a uniform sample of them whatever the
 * collection's size (learning/audit.ts withUniformAuditRows; samples labeled since are still among them).
 */
function auditSetConfidence(project: Project, ranking: RankedQueue | undefined, rate: number): { meanConfidence: number; auditSetRows: number } | undefined {
  if (!ranking?.probs || ranking.coldStart || ranking.sampleIds.length === 0) return undefined;
  const rows = auditPositions(ranking, rate, project.auditSalt);
  if (rows.length === 0) return undefined;
  let sum = 0;
  for (const r of rows) {
    let best = 0;
    for (let c = 0; c < ranking.classes; c++) best = Math.max(best, ranking.probs[r * ranking.classes + c]);
    sum += best;
  }
  return { meanConfidence: sum / rows.length, auditSetRows: rows.length };
}

const finite = (x: number) => (Number.isFinite(x) ? x : null);
