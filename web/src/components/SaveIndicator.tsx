// Whether every label is on the server. Nothing reads "saved" until the server acknowledged it.

import { For, Show } from 'solid-js';
import type { FailedItem } from '../saving/saveQueue.js';

export function SaveIndicator(props: {
  unsaved: number;
  failed: FailedItem[];
  retrying: boolean;
  onRetry: () => void;
  onDismiss: (requestId: string) => void;
}) {
  return (
    <div class="save-indicator" data-testid="save-status" data-unsaved={props.unsaved} data-failed={props.failed.length}>
      <span role="status" aria-live="polite" classList={{ pending: props.unsaved > 0, ok: props.unsaved === 0 }}>
        <Show when={props.unsaved > 0} fallback={<>All labels saved</>}>
          {props.unsaved} unsaved{props.retrying ? ' · retrying' : ' · saving…'}
        </Show>
      </span>
      <Show when={props.retrying}>
        <button type="button" class="link" onClick={() => props.onRetry()}>
          Retry now
        </button>
      </Show>
      <Show when={props.failed.length > 0}>
        <details class="failed" data-testid="save-failed">
          <summary role="alert">{props.failed.length} not saved</summary>
          <ul>
            <For each={props.failed}>
              {(f) => (
                <li>
                  <span>
                    {f.op.kind === 'undo' ? 'Undo' : 'Label'} on {f.op.sampleId}: {f.message}
                  </span>
                  <button type="button" class="link" onClick={() => props.onDismiss(f.op.requestId)}>
                    Dismiss
                  </button>
                </li>
              )}
            </For>
          </ul>
        </details>
      </Show>
    </div>
  );
}
