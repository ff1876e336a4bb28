// The last labeled images as a strip of thumbnails under the image; a click revisits one (as ← does, directly).

import { For, Show } from 'solid-js';
import { describeLabel } from '../labels.js';
import type { LabelSession } from '../session.js';

export const STRIP_LENGTH = 20;

const keepFocus = (e: MouseEvent) => e.preventDefault();

export function HistoryStrip(props: { session: LabelSession }) {
  const s = props.session;
  const first = () => Math.max(0, s.history().length - STRIP_LENGTH);
  const entries = () => s.history().slice(first());
  const classes = () => s.project()?.classes ?? [];
  return (
    <Show when={entries().length > 0}>
      <nav class="history-strip" aria-label="Recently labeled" data-testid="history-strip">
        <ol>
          <For each={entries()}>
            {(served, k) => {
              const index = () => first() + k();
              const label = () => s.shownLabel(served).label;
              const name = () => (label() ? describeLabel(label()!, classes()) : 'not labeled');
              return (
                <li>
                  <button
                    type="button"
                    class="history-thumb"
                    data-testid={`history-${index()}`}
                    aria-current={s.cursor() === index() ? 'true' : undefined}
                    aria-label={`Revisit ${served.image.key}: ${name()}`}
                    title={name()}
                    onMouseDown={keepFocus}
                    onClick={() => s.visit(index())}
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
