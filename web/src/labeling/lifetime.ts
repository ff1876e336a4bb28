// What a labeling session schedules (retries, polls, throttled refreshes) ends with it: `later` runs nothing after
// `dispose`. And the short notice the session shows the labeler ("Nothing to undo."), gone after a few seconds.

import { createSignal } from 'solid-js';

export type Later = (fn: () => void, ms: number) => void;

export function createLifetime() {
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let disposed = false;

  const later: Later = (fn, ms) => {
    if (disposed) return;
    const t = setTimeout(() => {
      timers.delete(t);
      if (!disposed) fn();
    }, ms);
    timers.add(t);
  };

  function dispose(): void {
    disposed = true;
    timers.forEach(clearTimeout);
  }

  return { later, dispose, disposed: () => disposed };
}

export function createNotice(showFor = 4000) {
  const [notice, setNotice] = createSignal<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  function say(message: string): void {
    setNotice(message);
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => setNotice(undefined), showFor);
  }
  const dispose = () => {
    if (timer) clearTimeout(timer);
  };
  return { notice, say, dispose };
}
