// What the labeling view says under the image, and what it shows when there is no image to label.

import { Show } from 'solid-js';
import { ACCEPT_THRESHOLD, describeLabel, describeSuggestions, percent, topSuggestion } from '../labeling/labels.js';
import type { LabelSession } from '../labeling/session.js';

/** Under the image: where the labeler is, what is saved, what the model thinks. */
export function Caption(props: { session: LabelSession; boxes?: boolean }) {
  const s = props.session;
  const served = () => s.viewed()!;
  const classes = () => s.project()?.classes ?? [];
  const shown = () => s.shownLabel(served());
  const status = () => s.statusOf(served().sample.sampleId);
  const top = () => topSuggestion(served().sample.suggestions);
  const tags = () => (served().sample.tags ?? []).slice(0, 3);
  return (
    <div class="caption" data-testid="caption">
      <Show
        when={s.inHistory()}
        fallback={
          <Show when={!props.boxes} fallback={<BoxHint count={served().sample.proposals?.length ?? 0} />}>
            <Show when={top()} fallback={<span class="muted">{s.model()?.message ?? 'No model suggestion yet'}</span>}>
              {(t) => (
                <span class="suggestion" data-testid="suggestion" title="Your project's model, trained on your labels: its probability for each class">
                  Model: <strong>{describeSuggestions(served().sample.suggestions)}</strong>
                  <Show when={t().probability < ACCEPT_THRESHOLD}>
                    <span class="muted"> · not sure enough to accept (under {percent(ACCEPT_THRESHOLD)})</span>
                  </Show>
                </span>
              )}
            </Show>
            <Show when={tags().length > 0}>
              <span class="tags muted" data-testid="tagger-tags" title="A generic ImageNet classifier's guesses: not your classes, never accepted by Enter">
                {' '}
                · ImageNet tags (not your classes): {tags().map((t) => `${t.name} ${percent(t.probability)}`).join(', ')}
              </span>
            </Show>
          </Show>
        }
      >
        <span data-testid="history-position">
          Your label {s.history().length - (s.cursor() ?? 0)} back ·{' '}
        </span>
        <span data-testid="saved-label" class={`saved-label ${status() ?? 'saved'}`}>
          <Show when={shown().label} fallback={<>{shown().pending ? 'undo pending' : 'not labeled'}</>}>
            {(l) => <>{describeLabel(l(), classes())}</>}
          </Show>{' '}
          <span class="badge">{status() === undefined ? 'saved' : status() === 'failed' ? 'not saved' : 'unsaved'}</span>
        </span>
        <span class="muted" data-testid="history-hint">
          {props.boxes ? ' · edit the boxes, Enter saves them, ⌫ undoes this label' : ' · press a class to re-label, Enter keeps it, ⌫ undoes it'}
        </span>
      </Show>
      <Show when={s.draft().ambiguous}>
        <span class="badge warn" data-testid="ambiguous-on">
          ambiguous
        </span>
      </Show>
    </div>
  );
}

/** Box mode: what the model proposed and what the keys do, instead of the classifier's suggestion. */
function BoxHint(props: { count: number }) {
  return (
    <span class="muted" data-testid="box-hint">
      {props.count > 0 ? `The detector proposed ${props.count} box${props.count === 1 ? '' : 'es'}` : 'No boxes proposed'}: Y keeps, X rejects,
      a digit sets the class, N draws a new box, Enter saves.
    </span>
  );
}

export function EmptyState(props: { session: LabelSession }) {
  const s = props.session;
  return (
    <div class="empty" data-testid="empty">
      <Show when={!s.offline()} fallback={<OfflineEmpty />}>
      <Show when={!s.loading()} fallback={<p class="muted">Loading…</p>}>
        <Show when={s.serverDone()} fallback={<p class="muted">Loading the next image…</p>}>
          <p>
            <strong>Nothing left to label for you right now.</strong>
          </p>
          <p class="muted">
            <Show when={s.skippedCount() > 0} fallback={<>Other labelers may hold some images; new uploads appear here too.</>}>
              You skipped {s.skippedCount()} image{s.skippedCount() === 1 ? '' : 's'}: “Check again” brings them back.
            </Show>
          </p>
          <button type="button" onClick={() => s.checkAgain()}>
            Check again
          </button>
        </Show>
      </Show>
      </Show>
    </div>
  );
}

/** Offline with nothing left loaded: what is happening, instead of a "Loading…" that never ends. */
function OfflineEmpty() {
  return (
    <div data-testid="offline-empty">
      <p>
        <strong>Waiting for the server.</strong>
      </p>
      <p class="muted">Every image loaded ahead is labeled. The next ones load by themselves as soon as the server answers again.</p>
    </div>
  );
}
