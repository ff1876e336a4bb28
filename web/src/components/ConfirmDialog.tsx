// A question before something that cannot be undone, in the app's own modal dialog instead of the browser's
// confirm(): it names the action on its button, starts on "Cancel", keeps focus inside and gives it back.
// `await askToConfirm({...})` is the drop-in for `confirm(message)`.

import { render } from 'solid-js/web';
import { Modal } from './Modal.js';

export interface ConfirmOptions {
  title: string;
  message: string;
  /** The button that goes ahead, named for what it does ("Delete 3 images"). */
  confirm: string;
  danger?: boolean;
}

export function ConfirmDialog(props: ConfirmOptions & { onAnswer: (ok: boolean) => void }) {
  let cancel: HTMLButtonElement | undefined;
  return (
    <Modal labelledBy="confirm-title" testId="confirm" onClose={() => props.onAnswer(false)} initialFocus={() => cancel}>
      <h2 id="confirm-title">{props.title}</h2>
      <p>{props.message}</p>
      <div class="dialog-actions">
        <button type="button" ref={cancel} data-testid="confirm-cancel" onClick={() => props.onAnswer(false)}>
          Cancel
        </button>
        <button type="button" class={props.danger ? 'danger' : 'primary'} data-testid="confirm-yes" onClick={() => props.onAnswer(true)}>
          {props.confirm}
        </button>
      </div>
    </Modal>
  );
}

/** Shows a ConfirmDialog and resolves with the answer (false on Cancel, Escape or a click outside). */
export function askToConfirm(options: ConfirmOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const host = document.createElement('div');
    document.body.append(host);
    let answered = false;
    let dispose: (() => void) | undefined;
    const answer = (ok: boolean) => {
      if (answered) return;
      answered = true;
      // After this event: removing the dialog inside its own click handler would cut the handler short.
      queueMicrotask(() => {
        dispose?.();
        host.remove();
        resolve(ok);
      });
    };
    dispose = render(() => <ConfirmDialog {...options} onAnswer={answer} />, host);
  });
}
