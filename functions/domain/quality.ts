// What the labeling view says about the model, from the labels themselves:
//  - accuracy: the audit stream's estimate (learning/audit.ts), the model's accuracy on images it has not been
//    trained on, with a 95% interval, the number of audited labels it rests on, and per class;
//  - the error on the samples served: every label was an unseen test point for the model that chose the sample, but
//    active learning chooses the samples it is least sure about, so this error (in label order, for the chart) says
//    how hard the served samples are, never how accurate the model is.

import { estimateAccuracy, auditRate, type AuditPoint } from './learning/audit.js';
import { liveErrorSeries, type LiveErrorPoint } from './learning/live-error.js';
import { topClass } from './label-validation.js';
import type { Annotation, Project, RankedQueue } from './model.js';
import type { Stores } from './ports.js';
import { getProject } from './projects.js';
import { projectCounts } from './progress-tally.js';
import { modelState } from './serving/next-samples.js';
import { auditPositions } from './serving/lease-walk.js';

/** Points sent to the chart; aggregates always cover every point. */
const MAX_POINTS = 2000;

/** `defaultAuditRate`: the deployment's audit rate, for projects without their own. */
export async function projectQuality(stores: Stores, projectId: string, defaultAuditRate?: number, window = 50) {
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
  const series = liveErrorSeries(served.map((a) => a.live as LiveErrorPoint), window);
  const ranking = await stores.rankings.get(projectId);
  const audits: AuditPoint[] = labels
    .filter((a) => a.live!.audit && a.live!.predicted !== undefined && a.live!.confidence !== undefined)
    .map((a) => ({ predicted: a.live!.predicted!, confidence: a.live!.confidence!, labelClass: topClass(a.confidences) }));
  const rate = auditRate(project.auditRate, defaultAuditRate);
  // The difference estimator (audit.ts): the current model's mean confidence on the audit set's unlabeled samples,
  // corrected by the audits; it follows a model that improves between audits, where the audited share alone lags
  // (bench:audit on tf_flowers_dev: +0.8 against -5.0 points on average at 50-200 labels). It falls back to the share
  // when the audits find the probabilities off, or the ranking does not hold the whole audit set.
  const meanConfidence = await auditSetConfidence(stores, project, ranking, rate);
  const estimate = estimateAccuracy(audits, project.classes.length, meanConfidence === undefined ? {} : { meanConfidence });
  return {
    model: modelState(project, ranking),
    accuracy: {
      ...estimate,
      rate,
      perClass: estimate.perClass.map((c) => ({ ...c, name: project.classes[c.classIndex] })),
    },
    // The error on the samples served (selected for being uncertain): not an accuracy.
    count: series.count,
    window: series.window,
    mse: finite(series.mse),
    errorRate: finite(series.errorRate),
    windowErrorRate: finite(series.windowErrorRate),
    points: series.points.slice(-MAX_POINTS).map((p) => ({
      index: p.index,
      at: served[p.index].at,
      squaredError: p.squaredError,
      correct: p.correct,
      runningMse: p.runningMse,
      runningErrorRate: p.runningErrorRate,
      windowErrorRate: p.windowErrorRate,
    })),
  };
}

/**
 * The current model's mean top probability over the audit set's unlabeled samples (the audit draws' population), from
 * the ranking when it holds every unlabeled sample (one cut at its size limit holds the most uncertain ones only,
 * which would bias it low: then none).
 */
async function auditSetConfidence(stores: Stores, project: Project, ranking: RankedQueue | undefined, rate: number): Promise<number | undefined> {
  if (!ranking?.probs || ranking.coldStart || ranking.sampleIds.length === 0) return undefined;
  const counts = await projectCounts(stores, project, { labelers: false });
  // Samples labeled since the ranking was made are still in it: more rows than unlabeled samples is expected.
  if (ranking.sampleIds.length < counts.total - counts.labeled) return undefined;
  const rows = auditPositions(ranking, rate);
  if (rows.length === 0) return undefined;
  let sum = 0;
  for (const r of rows) {
    let best = 0;
    for (let c = 0; c < ranking.classes; c++) best = Math.max(best, ranking.probs[r * ranking.classes + c]);
    sum += best;
  }
  return sum / rows.length;
}

const finite = (x: number) => (Number.isFinite(x) ? x : null);
