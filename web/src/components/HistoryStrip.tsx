// The last labeled images as a strip of thumbnails under the image; a click revisits one (as ← does, directly).
// The strip follows the history when the browser is idle, after the next image has painted: adding a thumbnail
// (and fetching it) in the same frame as the next image made key -> next image slower (bench:web p95).

import { createEffect, createSignal, For, on, onCleanup, Show } from 'solid-js';
import { describeLabel } from '../labeling/labels.js';
import type { LabelSession } from '../labeling/session.js';
import type { Served } from '../api/types.js';

export const STRIP_LENGTH = 20;

const keepFocus = (e: MouseEvent) => e.preventDefault();

type Idle = (cb: () => void, opts?: { timeout: number }) => number;

/** Runs `fn` when the browser is idle (within a second), or after a short delay where there is no idle callback. */
function whenIdle(fn: () => void): () => void {
  const ric = (globalThis as { requestIdleCallback?: Idle }).requestIdleCallback;
  if (ric) {
    const id = ric(fn, { timeout: 1000 });
    return () => (globalThis as { cancelIdleCallback?: (id: number) => void }).cancelIdleCallback?.(id);
  }
  const id = setTimeout(fn, 200);
  return () => clearTimeout(id);
}

export function HistoryStrip(props: { session: LabelSession }) {
  const s = props.session;
  const [entries, setEntries] = createSignal<Served[]>([]);
  let cancel: (() => void) | undefined;
  createEffect(
    on(s.history, (history) => {
      cancel?.();
      cancel = whenIdle(() => setEntries(history.slice(-STRIP_LENGTH)));
    }),
  );
  onCleanup(() => cancel?.());
  const classes = () => s.project()?.classes ?? [];
  const viewedId = () => (s.inHistory() ? s.viewed()?.sample.sampleId : undefined);
  /** The entry's place in the history now (server history may have been added in front since the strip was drawn). */
  const visit = (sampleId: string) => {
    const index = s.history().findIndex((h) => h.sample.sampleId === sampleId);
    if (index >= 0) s.visit(index);
  };
  return (
    <Show when={entries().length > 0}>
      <nav class="history-strip" aria-label="Recently labeled" data-testid="history-strip">
        <ol>
          <For each={entries()}>
            {(served) => {
              const label = () => s.shownLabel(served).label;
              const name = () => (label() ? describeLabel(label()!, classes()) : 'not labeled');
              return (
                <li>
                  <button
                    type="button"
                    class="history-thumb"
                    aria-current={viewedId() === served.sample.sampleId ? 'true' : undefined}
                    aria-label={`Revisit ${served.image.key}: ${name()}`}
                    title={name()}
                    onMouseDown={keepFocus}
                    onClick={() => visit(served.sample.sampleId)}
                  >
                    <img src={served.image.thumbUrl ?? served.image.url} alt="" loading="lazy" decoding="async" />
                  </button>
                </li>
              );
            }}
          </For>
        </ol>
      </nav>
    </Show>
  );
}
