// The labeler's history in this session (and the server's before it), oldest first, and where the labeler is in
// it: `cursor` null is the front of the queue, a number an entry of history (Left/Right, the history strip).

import { batch, createSignal } from 'solid-js';
import type { Served } from '../api/types.js';

export function createHistoryCursor(onMove: (entry: Served | undefined) => void) {
  const [history, setHistory] = createSignal<Served[]>([]);
  const [cursor, setCursor] = createSignal<number | null>(null);

  function moveTo(index: number | null): void {
    batch(() => {
      setCursor(index);
      onMove(index === null ? undefined : history()[index]);
    });
  }

  return {
    history,
    setHistory,
    cursor,
    setCursor,
    /** Left: the previous entry (the newest one from the front). */
    back(): void {
      const n = history().length;
      if (n === 0) return;
      const c = cursor();
      moveTo(c === null ? n - 1 : Math.max(0, c - 1));
    },
    /** Right: the next entry, or the front after the newest. */
    forward(): void {
      const c = cursor();
      if (c === null) return;
      moveTo(c + 1 >= history().length ? null : c + 1);
    },
    /** Jumps to entry `index` (the history strip). */
    visit(index: number): void {
      if (history()[index]) moveTo(index);
    },
    /** Puts the server's earlier history before this session's, keeping the labeler on the entry in view. */
    prepend(earlier: Served[]): void {
      batch(() => {
        setHistory((h) => [...earlier, ...h]);
        setCursor((c) => (c === null ? c : c + earlier.length));
      });
    },
  };
}
