// Live quality of the model while labelers work: every label was an unseen test point for the model that chose
// the sample, so the error of the probabilities shown with it, in label order, is a running generalization error.

import { liveErrorSeries, type LiveErrorPoint } from './learning/live-error.js';
import type { Annotation } from './model.js';
import type { Stores } from './ports.js';
import { getProject } from './projects.js';
import { modelState } from './serve.js';

/** Points sent to the chart; aggregates always cover every point. */
const MAX_POINTS = 2000;

export async function projectQuality(stores: Stores, projectId: string, window = 50) {
  const project = await getProject(stores, projectId);
  const labels: Annotation[] = [];
  let cursor: string | undefined;
  do {
    const page = await stores.annotations.listForProject(projectId, { cursor, limit: 1000 });
    for (const a of page.items) if (a.kind === 'label' && a.live) labels.push(a);
    cursor = page.cursor;
  } while (cursor);
  labels.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const series = liveErrorSeries(labels.map((a) => a.live as LiveErrorPoint), window);
  const ranking = await stores.rankings.get(projectId);
  return {
    model: modelState(project, ranking),
    count: series.count,
    window: series.window,
    mse: finite(series.mse),
    errorRate: finite(series.errorRate),
    windowErrorRate: finite(series.windowErrorRate),
    estimatedAccuracy: finite(series.estimatedAccuracy),
    points: series.points.slice(-MAX_POINTS).map((p) => ({
      index: p.index,
      at: labels[p.index].at,
      squaredError: p.squaredError,
      correct: p.correct,
      runningMse: p.runningMse,
      runningErrorRate: p.runningErrorRate,
      windowErrorRate: p.windowErrorRate,
    })),
  };
}

const finite = (x: number) => (Number.isFinite(x) ? x : null);
