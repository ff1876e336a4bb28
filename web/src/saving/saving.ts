// One save queue per (project, labeler) for the life of the page, so leaving the labeling view does not stop
// unsaved labels from being saved, and reopening it does not start a second sender for the same labels.

import type { Api } from '../api/api.js';
import { createSaveRunner, type QueueState, type SaveOp, type SaveRunner } from './saveQueue.js';
import { loadUnsaved, saveUnsaved } from './storage.js';
import type { Sample } from '../api/types.js';

export interface SharedRunner {
  runner: SaveRunner;
  onChange(listener: (state: QueueState) => void): () => void;
  onSaved(listener: (op: SaveOp, sample: Sample) => void): () => void;
}

const runners = new Map<string, SharedRunner>();

export function sharedSaveRunner(api: Api, projectId: string, labeler: string): SharedRunner {
  const key = JSON.stringify([projectId, labeler]);
  const existing = runners.get(key);
  if (existing) return existing;
  const changed = new Set<(state: QueueState) => void>();
  const saved = new Set<(op: SaveOp, sample: Sample) => void>();
  const runner = createSaveRunner({
    transport: api,
    initial: loadUnsaved(projectId, labeler),
    // Only this labeler's own sign-in may send their labels (after a 401 or a switch of user they wait).
    ready: () => api.caller() === labeler,
    onChange: (state) => {
      saveUnsaved(projectId, labeler, state);
      changed.forEach((l) => l(state));
    },
    onSaved: (op, sample) => saved.forEach((l) => l(op, sample)),
  });
  const shared: SharedRunner = {
    runner,
    onChange: (l) => (changed.add(l), () => changed.delete(l)),
    onSaved: (l) => (saved.add(l), () => saved.delete(l)),
  };
  runners.set(key, shared);
  // Restored labels from an earlier visit go out right away.
  runner.retryNow();
  return shared;
}

/** Labels not yet acknowledged, across all projects (the tab-close warning). */
export function unsavedCount(): number {
  let n = 0;
  runners.forEach((r) => (n += r.runner.state().items.length));
  return n;
}

/** The network came back: retry everything now rather than waiting out the backoff. */
export function retryAllRunners(): void {
  runners.forEach((r) => r.runner.retryNow());
}

/** Tests: forget every runner (each test builds its own API). */
export function resetSaveRunners(): void {
  runners.forEach((r) => r.runner.stop());
  runners.clear();
}
