// Keyboard: a pure key map (`keyToAction`, unit tested) and ONE shared document listener that hands each key
// press to the innermost active view. Views never add their own keydown listeners.

export type Action =
  | { type: 'label'; classIndex: number }
  | { type: 'cycleConfidence'; classIndex: number }
  | { type: 'toggleAmbiguous' }
  | { type: 'accept' }
  | { type: 'undo' }
  | { type: 'back' }
  | { type: 'forward' }
  | { type: 'skip' }
  | { type: 'help' }
  | { type: 'escape' }
  // Box review
  | { type: 'boxClass'; classIndex: number }
  | { type: 'selectBox'; step: 1 | -1 }
  | { type: 'acceptBox' }
  | { type: 'rejectBox' }
  | { type: 'zoom'; step: 1 | -1 }
  | { type: 'nudgeBox'; dx: number; dy: number }
  | { type: 'resizeBox'; dw: number; dh: number }
  | { type: 'newBox' }
  | { type: 'toggleHideBox' }
  | { type: 'toggleLockBox' }
  | { type: 'undoBox' }
  | { type: 'zoomToBox' }
  // Projects with many classes: focus the class search
  | { type: 'findClass' }
  // The image: fit to the stage (never above 2x) or actual pixels
  | { type: 'actualSize' };

/** What the key map needs to know about the screen. */
export interface KeyContext {
  classCount: number;
  allowAmbiguous: boolean;
  /** While the shortcut sheet is open, only keys that close it do anything. */
  helpOpen: boolean;
  /** Box review: digits class the selected box, ↑/↓ pick a box, Y keeps it, X/Delete rejects it. */
  boxes?: boolean;
  /** Box review with a box selected: arrows nudge it and Shift+arrows resize it (Esc deselects). */
  boxSelected?: boolean;
  /** The class pad has a search field (more than 9 classes): / focuses it. */
  classSearch?: boolean;
}

/** The parts of a KeyboardEvent the map reads (so tests can pass plain objects). */
export interface KeyLike {
  key: string;
  code?: string;
  shiftKey?: boolean;
  altKey?: boolean;
  ctrlKey?: boolean;
  metaKey?: boolean;
  repeat?: boolean;
  target?: EventTarget | { tagName?: string; isContentEditable?: boolean; type?: string } | null;
}

/** Classes beyond the tenth are reached with Alt + digit (11..20). */
export const MAX_KEYED_CLASSES = 20;

export function keyToAction(event: KeyLike, context: KeyContext): Action | null {
  if (isTextEntry(event.target)) return null;
  // Ctrl/Cmd+Z undoes the last box edit, as in every editor; other browser and OS shortcuts are never ours.
  if (event.ctrlKey || event.metaKey) {
    const undo = context.boxes && !context.helpOpen && !event.shiftKey && !event.altKey && (event.key === 'z' || event.key === 'Z');
    return undo ? { type: 'undoBox' } : null;
  }

  if (context.helpOpen) {
    if (event.key === 'Escape' || event.key === '?' || event.key === 'h' || event.key === 'H') return { type: 'help' };
    return null;
  }

  const digit = digitOf(event);
  if (digit !== null) {
    // Holding a class key must not label a run of images.
    if (event.repeat) return null;
    const classIndex = (digit === 0 ? 9 : digit - 1) + (event.altKey ? 10 : 0);
    if (classIndex >= context.classCount) return null;
    if (context.boxes) return event.shiftKey ? null : { type: 'boxClass', classIndex };
    return event.shiftKey ? { type: 'cycleConfidence', classIndex } : { type: 'label', classIndex };
  }
  if (context.boxes && context.boxSelected) {
    const edit = boxEditKey(event);
    if (edit) return edit;
  }
  if (event.altKey) return null;
  if (context.boxes) {
    const boxAction = boxKey(event);
    if (boxAction) return boxAction;
  }

  switch (event.key) {
    case '+':
    case '=':
      return { type: 'zoom', step: 1 };
    case '-':
    case '_':
      return { type: 'zoom', step: -1 };
    case 'z':
    case 'Z':
      return { type: 'actualSize' };
    case 'ArrowLeft':
      return { type: 'back' };
    case 'ArrowRight':
      return { type: 'forward' };
    case 'Escape':
      return { type: 'escape' };
  }
  // Everything below changes or skips a label: one press, one action.
  if (event.repeat) return null;
  switch (event.key) {
    case 'Enter':
    case ' ':
      // A focused button or link answers Enter/Space itself (keyboard users tabbing through controls).
      return isActivatable(event.target) ? null : { type: 'accept' };
    case 'Backspace':
      return { type: 'undo' };
    case 'a':
    case 'A':
      return context.allowAmbiguous ? { type: 'toggleAmbiguous' } : null;
    case 's':
    case 'S':
      return { type: 'skip' };
    case 'h':
    case 'H':
    case '?':
      return { type: 'help' };
    case '/':
      return context.classSearch ? { type: 'findClass' } : null;
  }
  return null;
}

const ARROWS: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

/** With a box selected: arrows nudge it by a pixel (Alt: 10), Shift+arrows move its right/bottom edge. */
function boxEditKey(event: KeyLike): Action | null {
  const arrow = ARROWS[event.key];
  if (!arrow) return null;
  const step = event.altKey ? 10 : 1;
  const [x, y] = [arrow[0] * step, arrow[1] * step];
  return event.shiftKey ? { type: 'resizeBox', dw: x, dh: y } : { type: 'nudgeBox', dx: x, dy: y };
}

function boxKey(event: KeyLike): Action | null {
  switch (event.key) {
    case 'ArrowDown':
    case ']':
      return { type: 'selectBox', step: 1 };
    case 'ArrowUp':
    case '[':
      return { type: 'selectBox', step: -1 };
  }
  if (event.repeat) return null;
  switch (event.key) {
    case 'n':
    case 'N':
      return { type: 'newBox' };
    case 'v':
    case 'V':
      return { type: 'toggleHideBox' };
    case 'l':
    case 'L':
      return { type: 'toggleLockBox' };
    case 'f':
    case 'F':
      return { type: 'zoomToBox' };
    case 'y':
    case 'Y':
      return { type: 'acceptBox' };
    case 'x':
    case 'X':
    case 'Delete':
      return { type: 'rejectBox' };
  }
  return null;
}

/** The digit pressed, read from the physical key so Shift+1 still means 1 (its `key` is '!'). */
function digitOf(event: KeyLike): number | null {
  const code = event.code ?? '';
  const m = /^(?:Digit|Numpad)([0-9])$/.exec(code);
  if (m) return Number(m[1]);
  if (!code && /^[0-9]$/.test(event.key)) return Number(event.key);
  return null;
}

type TargetLike = { tagName?: string; isContentEditable?: boolean; type?: string };

function isTextEntry(target: KeyLike['target']): boolean {
  const t = target as TargetLike | null | undefined;
  if (!t || typeof t !== 'object') return false;
  if (t.isContentEditable) return true;
  const tag = (t.tagName ?? '').toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag !== 'INPUT') return false;
  // Checkboxes and radios do not take text: the labeling keys still work there.
  return !['checkbox', 'radio', 'button', 'submit', 'reset', 'range'].includes((t.type ?? 'text').toLowerCase());
}

function isActivatable(target: KeyLike['target']): boolean {
  const t = target as TargetLike | null | undefined;
  const tag = (t?.tagName ?? '').toUpperCase();
  return tag === 'BUTTON' || tag === 'A' || tag === 'SUMMARY' || (tag === 'INPUT' && t?.type !== 'text');
}

/** The key shown on a class button. */
export function shortcutFor(classIndex: number): string | undefined {
  if (classIndex >= MAX_KEYED_CLASSES) return undefined;
  const digit = String((classIndex % 10) + 1).slice(-1);
  return classIndex >= 10 ? `Alt+${digit}` : digit;
}

/** Every shortcut, for the help sheet. */
export const SHORTCUTS: readonly { keys: string; does: string }[] = [
  { keys: '1 … 9, 0', does: 'Label with class 1 … 10 (confidence 1) and go to the next image' },
  { keys: 'Alt + 1 … 0', does: 'Classes 11 … 20' },
  { keys: 'Shift + digit', does: 'Cycle that class’s confidence level (then Enter saves)' },
  { keys: 'A', does: 'Toggle “ambiguous”' },
  { keys: 'Enter / Space', does: 'Save the confidences you set, or accept the model’s suggestion (walking back: keep the saved label)' },
  { keys: 'Backspace', does: 'Undo the label on screen, or your last one (on the server)' },
  { keys: '← / →', does: 'Walk back / forward through your labels; press a class to re-label' },
  { keys: 'S', does: 'Skip this image for now' },
  { keys: 'Z', does: 'Image at actual size (1:1) / fit to the screen (never enlarged above 2×)' },
  { keys: '+ / −', does: 'Zoom the image in / out (scroll to pan)' },
  { keys: '/', does: 'Find a class by name (projects with more than 9 classes): type, ↑ / ↓, Enter' },
  { keys: 'H or ?', does: 'Show or hide these shortcuts' },
  { keys: 'Esc', does: 'Clear the confidences you set / close this sheet' },
];

/** Extra shortcuts of box-review projects. */
export const BOX_SHORTCUTS: readonly { keys: string; does: string }[] = [
  { keys: '[ / ]', does: 'Select the previous / next box (↑ / ↓ when no box is selected)' },
  { keys: 'N', does: 'New box of the last class used, in the middle of the view (then shape it with the arrows)' },
  { keys: '← ↑ → ↓', does: 'Nudge the selected box by a pixel (Alt: 10 pixels)' },
  { keys: 'Shift + arrows', does: 'Resize the selected box (moves its right / bottom edge)' },
  { keys: 'Ctrl + Z', does: 'Undo the last box edit' },
  { keys: 'V', does: 'Hide / show the selected box on the image' },
  { keys: 'L', does: 'Lock / unlock the selected box against edits' },
  { keys: 'F', does: 'Zoom to the selected box; the view follows the selection while zoomed' },
  { keys: 'Esc', does: 'Deselect the box (then ← / → walk through your labels)' },
  { keys: '1 … 9, 0', does: 'Give the selected box that class (keeps it); new boxes get the last class used' },
  { keys: 'Y', does: 'Keep the selected box as the model proposed it' },
  { keys: 'X or Delete', does: 'Reject the selected proposal / delete a box you drew' },
  { keys: 'Drag on the image', does: 'Draw a new box; drag a selected box to move it, its corners to resize' },
  { keys: '+ / −', does: 'Zoom in / out (scroll to pan)' },
  { keys: 'Enter', does: 'Save the boxes (proposals you did not reject count as kept)' },
];

/** The shortcut sheet for a project: box review replaces the class and confidence keys. */
export function shortcutsFor(boxReview: boolean): readonly { keys: string; does: string }[] {
  if (!boxReview) return SHORTCUTS;
  const replaced = new Set(['1 … 9, 0', 'Shift + digit', 'Enter / Space', 'Esc']);
  return [...BOX_SHORTCUTS, ...SHORTCUTS.filter((s) => !replaced.has(s.keys))];
}

// ---- the one shared listener ----

export type KeyHandler = (event: KeyboardEvent) => boolean | void;

const handlers: KeyHandler[] = [];
let installedOn: Document | undefined;

function dispatch(event: KeyboardEvent): void {
  // The most recently registered (innermost) handler goes first; a handler returns true when it used the key.
  for (let i = handlers.length - 1; i >= 0; i--) {
    if (handlers[i](event)) {
      event.preventDefault();
      return;
    }
  }
}

/** Registers a handler on the shared listener; returns the function that removes it. */
export function onKey(handler: KeyHandler, doc: Document = document): () => void {
  if (installedOn !== doc) {
    installedOn?.removeEventListener('keydown', dispatch);
    doc.addEventListener('keydown', dispatch);
    installedOn = doc;
  }
  handlers.push(handler);
  return () => {
    const i = handlers.indexOf(handler);
    if (i >= 0) handlers.splice(i, 1);
  };
}
