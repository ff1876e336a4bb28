// What the browser remembers between visits: the labeler's name and any labels not yet acknowledged by the
// server (so a reload or a crash resends them with their original idempotency keys instead of losing them).

import type { QueueState } from './saveQueue.js';

const NAME_KEY = 'winnow.labeler';
const queueKey = (projectId: string, labeler: string) => `winnow.unsaved.${projectId}.${labeler}`;

/** localStorage, or nothing when the browser refuses it (private modes, sandboxed frames). */
function storage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}

export function loadLabelerName(): string {
  return storage()?.getItem(NAME_KEY) ?? '';
}

export function saveLabelerName(name: string): void {
  try {
    storage()?.setItem(NAME_KEY, name);
  } catch {
    // Quota or privacy mode: the name just is not remembered.
  }
}

export function loadUnsaved(projectId: string, labeler: string): QueueState | undefined {
  try {
    const raw = storage()?.getItem(queueKey(projectId, labeler));
    if (!raw) return undefined;
    const parsed = JSON.parse(raw) as QueueState;
    return Array.isArray(parsed.items) && Array.isArray(parsed.failed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export function saveUnsaved(projectId: string, labeler: string, state: QueueState): void {
  try {
    const s = storage();
    if (!s) return;
    if (state.items.length === 0 && state.failed.length === 0) s.removeItem(queueKey(projectId, labeler));
    else s.setItem(queueKey(projectId, labeler), JSON.stringify(state));
  } catch {
    // The in-memory queue still holds the labels; only crash-safety is lost.
  }
}
