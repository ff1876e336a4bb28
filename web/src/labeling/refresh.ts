// The labeling session's progress and live quality, read again after saves: throttled with a leading edge, so the
// first save refreshes at once and a burst of saves refreshes once more after.

import { createSignal } from 'solid-js';
import type { Api } from '../api/api.js';
import type { Later } from './lifetime.js';
import type { Progress, Quality } from '../api/types.js';

export function createRefresh(api: Api, projectId: string, delay: number, later: Later) {
  const [progress, setProgress] = createSignal<Progress>();
  const [quality, setQuality] = createSignal<Quality>();

  async function refreshProgress(): Promise<void> {
    try {
      setProgress(await api.progress(projectId));
    } catch {
      // Progress is informative; the next save refreshes it again.
    }
  }

  async function refreshQuality(): Promise<void> {
    try {
      setQuality(await api.quality(projectId));
    } catch {
      // The live error chart is optional.
    }
  }

  let pending = false;
  let last = 0;
  function refreshSoon(): void {
    if (pending) return;
    const wait = last + delay - Date.now();
    const run = () => {
      pending = false;
      last = Date.now();
      void refreshProgress();
      void refreshQuality();
    };
    if (wait <= 0) return run();
    pending = true;
    later(run, wait);
  }

  return { progress, quality, refreshProgress, refreshQuality, refreshSoon };
}
