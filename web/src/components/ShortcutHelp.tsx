// The shortcut sheet (H or ?). A modal dialog: focus moves into it, stays there, and returns on close.

import { For } from 'solid-js';
import { shortcutsFor } from '../labeling/keyboard.js';
import { Modal } from './Modal.js';

export function ShortcutHelp(props: { onClose: () => void; boxes?: boolean }) {
  let closeButton: HTMLButtonElement | undefined;
  return (
    <Modal labelledBy="shortcuts-title" testId="shortcuts" onClose={props.onClose} initialFocus={() => closeButton}>
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
    </Modal>
  );
}
