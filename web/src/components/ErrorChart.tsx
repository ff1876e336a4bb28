// What the labeling view says about the model:
//  - its accuracy on images it has not been trained on: its calibrated confidence on a random sample of the
//    collection, checked against the audit stream (a random 1 in 10 of the images served, labeled like any other),
//    with its 95% interval, the number of audited labels it was checked against, and per class;
//  - the live error chart: for every label on a served image, the squared error of the model's prediction shown with
//    it (dots, red when the model's top class was wrong), the running mean of that error and the running error rate.
//    Served images are the ones the model is least sure about, so this error is high by design: never an accuracy.
// Hand-drawn SVG: no chart library in the bundle.

import { For, Show, createMemo } from 'solid-js';
import type { Quality } from '../api/types.js';

const W = 320;
const H = 140;
const PAD = 6;
/** Drawing more dots than this adds nothing visible and costs frames: show the most recent ones. */
const MAX_POINTS = 400;

export function ErrorChart(props: { quality: Quality }) {
  const view = createMemo(() => {
    const q = props.quality;
    const n = Math.max(q.points.length, q.runningMse.length, q.runningError.length);
    const start = Math.max(0, n - MAX_POINTS);
    const span = Math.max(1, n - start - 1);
    const yMax = Math.max(1, ...q.points.slice(start).map((p) => p.mse));
    const x = (i: number) => PAD + ((i - start) / span) * (W - 2 * PAD);
    const y = (v: number) => H - PAD - (Math.min(v, yMax) / yMax) * (H - 2 * PAD);
    const line = (values: number[]) =>
      values
        .slice(start)
        .map((v, k) => `${x(start + k).toFixed(1)},${y(v).toFixed(1)}`)
        .join(' ');
    return {
      n,
      yMax,
      dots: q.points.slice(start).map((p, k) => ({ cx: x(start + k), cy: y(p.mse), correct: p.correct })),
      mse: line(q.runningMse),
      error: line(q.runningError),
    };
  });
  const last = (values: number[]) => (values.length ? values[values.length - 1] : undefined);
  const pct = (v: number | undefined) => (v === undefined || v === null ? '–' : `${Math.round(v * 100)}%`);
  const count = () => props.quality.count ?? view().n;

  return (
    <figure class="error-chart" data-testid="error-chart">
      <figcaption>
        <span data-testid="accuracy-estimate" title="The model's calibrated confidence on a random sample of the images not yet labeled, corrected by how often it was right on images drawn at random for labeling (1 in 10 of what is served), each judged by a model that did not train on it">
          <Show when={props.quality.estimate} fallback={<>Model accuracy: not measured yet (needs a few randomly drawn images labeled)</>}>
            {(e) => (
              <>
                Model accuracy ≈ <strong>{pct(e().accuracy)}</strong> (95% interval {pct(e().low)}–{pct(e().high)}, checked against {e().n}{' '}
                randomly drawn label{e().n === 1 ? '' : 's'})
              </>
            )}
          </Show>
        </span>
        <br />
        <span class="muted" data-testid="served-error" title="The images served are the ones the model is least sure about: their error is high by design">
          Error on the hard images served: {pct(last(props.quality.runningError))}
          <Show when={props.quality.windowErrorRate !== undefined}>
            {' '}
            (last {props.quality.window ?? ''}: {pct(props.quality.windowErrorRate)})
          </Show>
        </span>
      </figcaption>
      <Show when={(props.quality.estimate?.perClass ?? []).some((c) => c.n > 0)}>
        <details class="per-class" data-testid="accuracy-per-class">
          <summary>Accuracy per class</summary>
          <ul>
            <For each={props.quality.estimate!.perClass.filter((c) => c.n > 0)}>
              {(c) => (
                <li>
                  {c.name}: {pct(c.accuracy ?? undefined)} ({pct(c.low ?? undefined)}–{pct(c.high ?? undefined)}, {c.n} label{c.n === 1 ? '' : 's'})
                </li>
              )}
            </For>
          </ul>
        </details>
      </Show>
      <Show when={view().n > 0} fallback={<p class="muted">No scored labels yet.</p>}>
        <svg
          viewBox={`0 0 ${W} ${H}`}
          role="img"
          aria-label={`Live error on served images over ${count()} labels: running mean squared error ${last(props.quality.runningMse)?.toFixed(3) ?? '–'}, running error rate ${pct(last(props.quality.runningError))}`}
        >
          <line class="axis" x1={PAD} y1={H - PAD} x2={W - PAD} y2={H - PAD} />
          <For each={view().dots}>
            {(d) => <circle cx={d.cx.toFixed(1)} cy={d.cy.toFixed(1)} r="1.8" class={d.correct ? 'dot ok' : 'dot bad'} />}
          </For>
          <polyline class="line mse" points={view().mse} />
          <polyline class="line err" points={view().error} />
        </svg>
        <p class="legend">
          <span class="key mse" /> running squared error <span class="key err" /> running error rate{' '}
          <span class="key bad" /> wrong prediction
        </p>
      </Show>
    </figure>
  );
}
