// A modal dialog on the native <dialog> with showModal(): the page behind is inert, Tab and Shift+Tab stay inside,
// Escape and a click on the backdrop close it, and focus goes back to what had it before the dialog opened.

import { onCleanup, onMount, type JSX } from 'solid-js';
import { onKey } from '../labeling/keyboard.js';

const FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]):not([type="hidden"]), select, textarea, [tabindex]:not([tabindex="-1"])';

export function Modal(props: {
  labelledBy: string;
  onClose: () => void;
  children: JSX.Element;
  class?: string;
  testId?: string;
  /** The element to focus first (default: the first focusable one). */
  initialFocus?: () => HTMLElement | undefined;
}) {
  let dialog: HTMLDialogElement | undefined;
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : undefined;
  // Lists re-render their rows (the gallery's virtual grid): find the opener again by its test id if it was replaced.
  const openerId = opener?.dataset.testid;

  const focusables = () =>
    Array.from(dialog?.querySelectorAll<HTMLElement>(FOCUSABLE) ?? []).filter((el) => !el.hidden && el.getClientRects().length > 0);

  onMount(() => {
    const d = dialog!;
    if (typeof d.showModal === 'function') d.showModal();
    else d.setAttribute('open', '');
    (props.initialFocus?.() ?? focusables()[0] ?? d).focus();
    // Tab cycles through the dialog's own controls (the browser would otherwise leave for its own UI).
    const off = onKey((event) => {
      if (event.key !== 'Tab' || event.ctrlKey || event.altKey || event.metaKey) return false;
      const list = focusables();
      if (list.length === 0) return true;
      const at = list.indexOf(document.activeElement as HTMLElement);
      const next = event.shiftKey ? (at <= 0 ? list.length - 1 : at - 1) : at < 0 || at === list.length - 1 ? 0 : at + 1;
      list[next].focus();
      return true;
    });
    onCleanup(off);
  });
  onCleanup(() => {
    if (dialog?.open && typeof dialog.close === 'function') dialog.close();
    if (opener?.isConnected) opener.focus();
    else if (openerId) setTimeout(() => document.querySelector<HTMLElement>(`[data-testid="${openerId.replace(/"/g, '\\"')}"]`)?.focus());
  });

  return (
    <dialog
      ref={dialog}
      class={`dialog ${props.class ?? ''}`}
      aria-labelledby={props.labelledBy}
      data-testid={props.testId}
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
      onClick={(e) => e.target === e.currentTarget && props.onClose()}
    >
      <div class="dialog-body">{props.children}</div>
    </dialog>
  );
}
