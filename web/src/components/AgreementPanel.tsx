// Owner: agreement between labelers on the images two or more of them labeled (GET /agreement,
// functions/domain/agreement.ts), overall, per pair of labelers and per class. Each "disagree" figure is a button
// that filters the gallery to exactly those samples (split=true with the pair or the class).

import { For, Show } from 'solid-js';
import type { AgreementReply } from '../api/api.js';
import { percent } from '../labeling/labels.js';

/** Which disagreements the gallery shows: a pair of labelers, or a class one of them chose. */
export type SplitChoice = { splitA: string; splitB: string } | { splitClass: string };

export function AgreementPanel(props: { agreement: AgreementReply; show: (choice: SplitChoice) => void; active?: SplitChoice }) {
  const a = () => props.agreement;
  const isActive = (c: SplitChoice) => JSON.stringify(c) === JSON.stringify(props.active);
  const share = (x: number | null) => (x === null ? '—' : percent(x));
  /** The number of disagreements, as a button that shows them in the gallery. */
  const DisagreeCell = (cell: { count: number; choice: SplitChoice }) => (
    <td>
      <Show when={cell.count > 0} fallback={<span class="muted">0</span>}>
        <button type="button" class="link" aria-pressed={isActive(cell.choice)} data-testid="show-disagreements" onClick={() => props.show(cell.choice)}>
          {cell.count} disagree
        </button>
      </Show>
    </td>
  );
  return (
    <section class="card agreement" aria-labelledby="agreement-title" data-testid="agreement">
      <h2 id="agreement-title">Agreement between labelers</h2>
      <Show when={a().repairing}>
        <p class="muted" role="status">The counts are being rebuilt from every label; reload in a moment for exact figures.</p>
      </Show>
      <Show
        when={a().samples > 0}
        fallback={<p class="muted">No image has labels from two people yet (set the project's overlap to 2 or more to measure agreement).</p>}
      >
        <p data-testid="agreement-summary">
          {a().samples} image{a().samples === 1 ? '' : 's'} labeled by two or more people · <strong>{share(a().unanimous)}</strong> unanimous
        </p>
        <div class="agreement-tables">
          <div class="table-scroll">
            <table data-testid="agreement-pairs">
              <caption>Per pair of labelers</caption>
              <thead>
                <tr>
                  <th scope="col">Labelers</th>
                  <th scope="col">Both labeled</th>
                  <th scope="col">Agree</th>
                  <th scope="col">Disagree</th>
                </tr>
              </thead>
              <tbody>
                <For each={a().pairs}>
                  {(p) => (
                    <tr data-testid={`agreement-pair-${p.a}-${p.b}`}>
                      <th scope="row">
                        {p.a} &amp; {p.b}
                      </th>
                      <td>{p.shared}</td>
                      <td data-testid="agreement-share">{share(p.agreement)}</td>
                      <DisagreeCell count={p.disagree} choice={{ splitA: p.a, splitB: p.b }} />
                    </tr>
                  )}
                </For>
              </tbody>
            </table>
          </div>
          <div class="table-scroll">
            <table data-testid="agreement-classes">
              <caption>Per class (images where someone chose it)</caption>
              <thead>
                <tr>
                  <th scope="col">Class</th>
                  <th scope="col">Images</th>
                  <th scope="col">Unanimous</th>
                  <th scope="col">Disagree</th>
                </tr>
              </thead>
              <tbody>
                <For each={a().classes.filter((c) => c.samples > 0)}>
                  {(c) => (
                    <tr data-testid={`agreement-class-${c.class}`}>
                      <th scope="row">{c.class}</th>
                      <td>{c.samples}</td>
                      <td data-testid="agreement-share">{share(c.agreement)}</td>
                      <DisagreeCell count={c.disagree} choice={{ splitClass: c.class }} />
                    </tr>
                  )}
                </For>
              </tbody>
            </table>
          </div>
        </div>
      </Show>
    </section>
  );
}
