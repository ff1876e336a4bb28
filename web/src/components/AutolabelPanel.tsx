// Owner: "label every remaining image the model is sure about at >= P precision". Shows what it would do (how many
// images, the estimated precision with its 95% interval and the held-out labels it rests on), does it as one batch,
// and undoes a batch. The guarantee and its limits: functions/domain/autolabel.ts.

import { createResource, createSignal, For, Show } from 'solid-js';
import type { Api } from '../api/api.js';
import { percent } from '../labeling/labels.js';

const PRECISIONS = [0.9, 0.95, 0.98, 0.99];

type Preview = NonNullable<Awaited<ReturnType<Api['autolabelPreview']>>>['preview'];
/** The preview when auto-labeling is possible (otherwise the server sends only the reason). */
const preview = (p: Preview) => (p.possible && 'wouldLabel' in p ? p : undefined);

export function AutolabelPanel(props: { api: Api; projectId: string }) {
  const [precision, setPrecision] = createSignal(0.98);
  const [busy, setBusy] = createSignal(false);
  const [message, setMessage] = createSignal<string>();
  const [state, { refetch }] = createResource(precision, (p) => props.api.autolabelPreview(props.projectId, p));

  async function act(run: () => Promise<string>) {
    setBusy(true);
    try {
      setMessage(await run());
      await refetch();
    } catch (err) {
      setMessage((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Show when={state()}>
      {(s) => (
        <section class="autolabel" data-testid="autolabel-panel" aria-label="Auto-label">
          <h2>Auto-label the confident rest</h2>
          <label>
            Precision at least{' '}
            <select value={precision()} onChange={(e) => setPrecision(Number(e.currentTarget.value))} disabled={busy()}>
              <For each={PRECISIONS}>{(p) => <option value={p}>{percent(p)}</option>}</For>
            </select>
          </label>
          <Show
            when={preview(s().preview)}
            fallback={<p class="muted" data-testid="autolabel-reason">{s().preview.reason}</p>}
          >
            {(p) => (
              <>
                <p data-testid="autolabel-preview">
                  {p().wouldLabel} unlabeled images at confidence ≥ {p().threshold}: estimated precision{' '}
                  {percent(p().estimatedPrecision!)} (95% interval {percent(p().interval!.low)}–{percent(p().interval!.high)}, from{' '}
                  {p().heldOut} of your labels the model had not seen). Stored as model labels: not trained on, not exported unless asked.
                </p>
                <button
                  type="button"
                  disabled={busy() || !p().wouldLabel}
                  onClick={() => act(async () => `Labeled ${(await props.api.autolabel(props.projectId, precision())).labeled} images.`)}
                >
                  Auto-label {p().wouldLabel} images
                </button>
              </>
            )}
          </Show>
          <Show when={s().batches.length > 0}>
            <ul class="autolabel-batches">
              <For each={s().batches}>
                {(b) => (
                  <li>
                    {b.createdAt.slice(0, 16).replace('T', ' ')}: {b.labeled} images at ≥ {percent(b.precision)} (estimated {percent(b.estimatedPrecision)})
                    <Show when={!b.undoneAt} fallback={<span class="muted"> · undone</span>}>
                      {' '}
                      <button
                        type="button"
                        class="link"
                        disabled={busy()}
                        onClick={() => act(async () => `Undone: ${(await props.api.undoAutolabel(props.projectId, b.batchId)).restored} labels removed.`)}
                      >
                        Undo
                      </button>
                    </Show>
                  </li>
                )}
              </For>
            </ul>
          </Show>
          <Show when={message()}>
            <p role="status">{message()}</p>
          </Show>
        </section>
      )}
    </Show>
  );
}
