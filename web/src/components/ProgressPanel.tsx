// Project progress (labeled / total), progress by class, and the labeler's own counts.

import { For, Show } from 'solid-js';
import type { Progress } from '../api/types.js';

/** `boxes`: a box project, where the per-class counts are boxes, not images. */
export function ProgressPanel(props: { progress?: Progress; boxes?: boolean }) {
  const fraction = (p: Progress) => (p.total > 0 ? p.labeled / p.total : 0);
  const maxClass = (p: Progress) => Math.max(1, ...p.byClass.map((c) => c.count));
  return (
    <section class="progress-panel" aria-label="Progress" data-testid="progress">
      <Show when={props.progress} fallback={<p class="muted">Loading progress…</p>}>
        {(p) => (
          <>
            <div class="progress-head">
              <span>
                <strong data-testid="progress-labeled">{p().labeled}</strong> / <span data-testid="progress-total">{p().total}</span> labeled
              </span>
              <span class="muted">
                You: {p().me.today} today · {p().me.total} total
              </span>
            </div>
            <div
              class="bar"
              role="progressbar"
              aria-label="Labeled images"
              aria-valuemin={0}
              aria-valuemax={p().total}
              aria-valuenow={p().labeled}
              aria-valuetext={`${p().labeled} of ${p().total} labeled`}
            >
              <span style={{ width: `${(fraction(p()) * 100).toFixed(1)}%` }} />
            </div>
            <Show when={props.boxes}>
              <p class="panel-subtitle muted">Boxes per class</p>
            </Show>
            <ul class="by-class" aria-label={props.boxes ? 'Boxes per class' : 'Labels per class'} data-testid="by-class">
              <For each={p().byClass}>
                {(c) => (
                  <li data-testid={`by-class-${c.name}`}>
                    <span class="name">{c.name}</span>
                    <span class="mini-bar" aria-hidden="true">
                      <span style={{ width: `${((c.count / maxClass(p())) * 100).toFixed(1)}%` }} />
                    </span>
                    <span class="count">{c.count}</span>
                  </li>
                )}
              </For>
              <Show when={p().ambiguous > 0}>
                <li>
                  <span class="name">ambiguous</span>
                  <span class="mini-bar" aria-hidden="true" />
                  <span class="count">{p().ambiguous}</span>
                </li>
              </Show>
            </ul>
            <Show when={p().labelers.length > 0}>
              <details class="labelers">
                <summary>
                  {p().labelers.length} labeler{p().labelers.length === 1 ? '' : 's'}
                </summary>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Labeler</th>
                      <th scope="col">Today</th>
                      <th scope="col">Total</th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={p().labelers}>
                      {(l) => (
                        <tr>
                          <td>{l.labelerId}</td>
                          <td>{l.today}</td>
                          <td>{l.total}</td>
                        </tr>
                      )}
                    </For>
                  </tbody>
                </table>
              </details>
            </Show>
          </>
        )}
      </Show>
    </section>
  );
}
