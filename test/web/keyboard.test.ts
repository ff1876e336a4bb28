// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { keyToAction, onKey, shortcutFor, type KeyContext, type KeyLike } from '../../web/src/labeling/keyboard.js';

const ctx: KeyContext = { classCount: 5, allowAmbiguous: true, helpOpen: false };
const key = (k: string, extra: Partial<KeyLike> = {}): KeyLike => ({
  key: k,
  code: /^[0-9]$/.test(k) ? `Digit${k}` : undefined,
  ...extra,
});

describe('keyToAction', () => {
  it('maps 1..N to classes 0..N-1 and ignores digits beyond the project classes', () => {
    expect(keyToAction(key('1'), ctx)).toEqual({ type: 'label', classIndex: 0 });
    expect(keyToAction(key('5'), ctx)).toEqual({ type: 'label', classIndex: 4 });
    expect(keyToAction(key('6'), ctx)).toBeNull();
  });

  it('maps 0 to the tenth class and Alt+digit to classes 11..20', () => {
    const twelve = { ...ctx, classCount: 12 };
    expect(keyToAction(key('0'), twelve)).toEqual({ type: 'label', classIndex: 9 });
    expect(keyToAction(key('2', { altKey: true, key: '™' }), twelve)).toEqual({ type: 'label', classIndex: 11 });
    expect(keyToAction(key('3', { altKey: true }), twelve)).toBeNull();
  });

  it('reads the physical digit so Shift+digit cycles that class confidence', () => {
    expect(keyToAction({ key: '@', code: 'Digit2', shiftKey: true }, ctx)).toEqual({
      type: 'cycleConfidence',
      classIndex: 1,
    });
  });

  it('accepts numpad digits and plain keys without a code', () => {
    expect(keyToAction({ key: '3', code: 'Numpad3' }, ctx)).toEqual({ type: 'label', classIndex: 2 });
    expect(keyToAction({ key: '3' }, ctx)).toEqual({ type: 'label', classIndex: 2 });
  });

  it('does not label a run of images while a class key is held down', () => {
    expect(keyToAction(key('1', { repeat: true }), ctx)).toBeNull();
    expect(keyToAction(key('Backspace', { repeat: true }), ctx)).toBeNull();
    // Walking history may auto-repeat.
    expect(keyToAction(key('ArrowLeft', { repeat: true }), ctx)).toEqual({ type: 'back' });
  });

  it('maps the labeling commands', () => {
    expect(keyToAction(key('Enter'), ctx)).toEqual({ type: 'accept' });
    expect(keyToAction(key(' '), ctx)).toEqual({ type: 'accept' });
    expect(keyToAction(key('Backspace'), ctx)).toEqual({ type: 'undo' });
    expect(keyToAction(key('ArrowLeft'), ctx)).toEqual({ type: 'back' });
    expect(keyToAction(key('ArrowRight'), ctx)).toEqual({ type: 'forward' });
    expect(keyToAction(key('s'), ctx)).toEqual({ type: 'skip' });
    expect(keyToAction(key('S'), ctx)).toEqual({ type: 'skip' });
    expect(keyToAction(key('a'), ctx)).toEqual({ type: 'toggleAmbiguous' });
    expect(keyToAction(key('h'), ctx)).toEqual({ type: 'help' });
    expect(keyToAction(key('?', { shiftKey: true }), ctx)).toEqual({ type: 'help' });
    expect(keyToAction(key('Escape'), ctx)).toEqual({ type: 'escape' });
  });

  it('offers "ambiguous" only when the project does', () => {
    expect(keyToAction(key('a'), { ...ctx, allowAmbiguous: false })).toBeNull();
  });

  it('leaves browser shortcuts and text fields alone', () => {
    expect(keyToAction(key('1', { ctrlKey: true }), ctx)).toBeNull();
    expect(keyToAction(key('s', { metaKey: true }), ctx)).toBeNull();
    expect(keyToAction(key('1', { target: { tagName: 'INPUT', type: 'text' } }), ctx)).toBeNull();
    expect(keyToAction(key('Backspace', { target: { tagName: 'TEXTAREA' } }), ctx)).toBeNull();
    expect(keyToAction(key('1', { target: { tagName: 'DIV', isContentEditable: true } }), ctx)).toBeNull();
    // A checkbox does not take text: labeling keys still work there.
    expect(keyToAction(key('1', { target: { tagName: 'INPUT', type: 'checkbox' } }), ctx)).toEqual({
      type: 'label',
      classIndex: 0,
    });
  });

  it('lets a focused button answer Enter and Space itself', () => {
    const button = { tagName: 'BUTTON' };
    expect(keyToAction(key('Enter', { target: button }), ctx)).toBeNull();
    expect(keyToAction(key(' ', { target: button }), ctx)).toBeNull();
    expect(keyToAction(key('2', { target: button }), ctx)).toEqual({ type: 'label', classIndex: 1 });
  });

  it('while the shortcut sheet is open, only closes it', () => {
    const open = { ...ctx, helpOpen: true };
    expect(keyToAction(key('1'), open)).toBeNull();
    expect(keyToAction(key('Backspace'), open)).toBeNull();
    expect(keyToAction(key('Escape'), open)).toEqual({ type: 'help' });
    expect(keyToAction(key('?'), open)).toEqual({ type: 'help' });
  });
});

describe('keyToAction in box review', () => {
  const boxes = { ...ctx, boxes: true };
  it('turns digits into the selected box’s class and adds box keys', () => {
    expect(keyToAction(key('2'), boxes)).toEqual({ type: 'boxClass', classIndex: 1 });
    expect(keyToAction(key('@', { code: 'Digit2', shiftKey: true }), boxes)).toBeNull();
    expect(keyToAction(key('ArrowDown'), boxes)).toEqual({ type: 'selectBox', step: 1 });
    expect(keyToAction(key('ArrowUp'), boxes)).toEqual({ type: 'selectBox', step: -1 });
    expect(keyToAction(key('y'), boxes)).toEqual({ type: 'acceptBox' });
    expect(keyToAction(key('x'), boxes)).toEqual({ type: 'rejectBox' });
    expect(keyToAction(key('Delete'), boxes)).toEqual({ type: 'rejectBox' });
    expect(keyToAction(key('+', { shiftKey: true }), boxes)).toEqual({ type: 'zoom', step: 1 });
    expect(keyToAction(key('-'), boxes)).toEqual({ type: 'zoom', step: -1 });
  });

  it('keeps the common keys: save, undo, history, skip, help', () => {
    expect(keyToAction(key('Enter'), boxes)).toEqual({ type: 'accept' });
    expect(keyToAction(key('Backspace'), boxes)).toEqual({ type: 'undo' });
    expect(keyToAction(key('ArrowLeft'), boxes)).toEqual({ type: 'back' });
    expect(keyToAction(key('s'), boxes)).toEqual({ type: 'skip' });
    expect(keyToAction(key('?'), boxes)).toEqual({ type: 'help' });
    // Box keys mean nothing outside box review.
    expect(keyToAction(key('x'), ctx)).toBeNull();
    expect(keyToAction(key('ArrowDown'), ctx)).toBeNull();
  });
});

describe('keyToAction with a box selected', () => {
  const selected = { ...ctx, boxes: true, boxSelected: true };
  it('nudges with arrows (Alt: ten pixels), resizes with Shift+arrows, and repeats while held', () => {
    expect(keyToAction(key('ArrowLeft'), selected)).toEqual({ type: 'nudgeBox', dx: -1, dy: 0 });
    expect(keyToAction(key('ArrowDown', { repeat: true }), selected)).toEqual({ type: 'nudgeBox', dx: 0, dy: 1 });
    expect(keyToAction(key('ArrowUp', { altKey: true }), selected)).toEqual({ type: 'nudgeBox', dx: 0, dy: -10 });
    expect(keyToAction(key('ArrowRight', { shiftKey: true }), selected)).toEqual({ type: 'resizeBox', dw: 1, dh: 0 });
    expect(keyToAction(key('ArrowUp', { shiftKey: true }), selected)).toEqual({ type: 'resizeBox', dw: 0, dh: -1 });
  });

  it('draws, hides, locks, zooms to the box, selects with brackets and undoes with Ctrl+Z only in box review', () => {
    expect(keyToAction(key('n'), selected)).toEqual({ type: 'newBox' });
    expect(keyToAction(key('v'), selected)).toEqual({ type: 'toggleHideBox' });
    expect(keyToAction(key('l'), selected)).toEqual({ type: 'toggleLockBox' });
    expect(keyToAction(key('f'), selected)).toEqual({ type: 'zoomToBox' });
    expect(keyToAction(key(']'), selected)).toEqual({ type: 'selectBox', step: 1 });
    expect(keyToAction(key('['), selected)).toEqual({ type: 'selectBox', step: -1 });
    expect(keyToAction(key('z', { ctrlKey: true }), selected)).toEqual({ type: 'undoBox' });
    expect(keyToAction(key('z', { metaKey: true }), selected)).toEqual({ type: 'undoBox' });
    expect(keyToAction(key('z', { ctrlKey: true }), ctx)).toBeNull();
    expect(keyToAction(key('r', { ctrlKey: true }), selected)).toBeNull();
    // Nothing selected: arrows walk history and pick boxes as before.
    expect(keyToAction(key('ArrowLeft'), { ...selected, boxSelected: false })).toEqual({ type: 'back' });
  });
});

describe('shortcutFor', () => {
  it('names the key on each class button', () => {
    expect([0, 8, 9, 10, 19, 20].map(shortcutFor)).toEqual(['1', '9', '0', 'Alt+1', 'Alt+0', undefined]);
  });
});

describe('onKey (the one shared listener)', () => {
  const offs: (() => void)[] = [];
  afterEach(() => offs.splice(0).forEach((off) => off()));

  it('gives a key to the innermost handler first and prevents the default once used', () => {
    const seen: string[] = [];
    offs.push(onKey(() => (seen.push('outer'), true)));
    offs.push(onKey((e) => (seen.push(`inner:${e.key}`), e.key === 'x')));
    const used = new KeyboardEvent('keydown', { key: 'x', cancelable: true });
    document.dispatchEvent(used);
    expect(seen).toEqual(['inner:x']);
    expect(used.defaultPrevented).toBe(true);

    const passed = new KeyboardEvent('keydown', { key: 'y', cancelable: true });
    document.dispatchEvent(passed);
    expect(seen).toEqual(['inner:x', 'inner:y', 'outer']);
  });

  it('stops calling a handler once it is removed', () => {
    let calls = 0;
    const off = onKey(() => {
      calls++;
      return true;
    });
    off();
    document.dispatchEvent(new KeyboardEvent('keydown', { key: '1' }));
    expect(calls).toBe(0);
  });
});
