// The shortcut sheet (H or ?). A modal dialog: focus moves into it and Escape closes it.

import { For, onMount } from 'solid-js';
import { shortcutsFor } from '../keyboard.js';

export function ShortcutHelp(props: { onClose: () => void; boxes?: boolean }) {
  let closeButton: HTMLButtonElement | undefined;
  onMount(() => closeButton?.focus());
  return (
    <div class="overlay" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="shortcuts-title" data-testid="shortcuts">
        <h2 id="shortcuts-title">Keyboard shortcuts</h2>
        <table>
          <tbody>
            <For each={shortcutsFor(!!props.boxes)}>
              {(s) => (
                <tr>
                  <th scope="row">
                    <kbd>{s.keys}</kbd>
                  </th>
                  <td>{s.does}</td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
        <button type="button" ref={closeButton} onClick={() => props.onClose()}>
          Close
        </button>
      </div>
    </div>
  );
}
