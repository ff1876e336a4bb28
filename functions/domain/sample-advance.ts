// The head a label or undo leaves on a sample: every store's `advance` sets exactly this, and a label answered before
// its head is written (label-completions.ts) tells the labeler and this process's serving memory the same.

import type { Sample } from './model.js';
import type { HeadAdvance } from './ports.js';

/** `before` (at `expectedVersion`) moved on by `next`: the lease ends, whoever held it. */
export function advancedHead(before: Sample, expectedVersion: number, next: HeadAdvance): Sample {
  const { lease: _ended, label: _old, queueKey: _oldKey, inEffect: _oldInEffect, liveTally: kept, ...rest } = before;
  const liveTally = next.liveTally ? (Object.keys(next.liveTally).length > 0 ? next.liveTally : undefined) : kept;
  return {
    ...rest,
    ...(liveTally ? { liveTally } : {}),
    version: expectedVersion + 1,
    labeledBy: next.labeledBy,
    ...(next.label ? { label: next.label } : {}),
    ...(next.inEffect ? { inEffect: next.inEffect } : {}),
    ...(next.queueKey !== undefined ? { queueKey: next.queueKey } : {}),
  };
}
