// The labeling session's link to this project's save queue (../saving/saving.ts): what is waiting to be saved, each
// sample's save status, the label a history entry shows while its write is on its way, and the server's answers.

import { createSignal } from 'solid-js';
import type { Api } from '../api/api.js';
import type { LabelHead, Sample, Served } from '../api/types.js';
import { sampleStatus, type QueueState, type SaveOp } from '../saving/saveQueue.js';
import { sharedSaveRunner } from '../saving/saving.js';

export interface SaveLinkOptions {
  api: Api;
  projectId: string;
  labeler: string;
  /** The project's classes (a queued single-class label is shown as confidences over them). */
  classes: () => string[];
  /** A save waiting on a network error or a 5xx means the server is away; an acknowledged one, that it is back. */
  setOffline: (offline: boolean) => void;
  /** A save was acknowledged: the sample as the server has it now. */
  onSaved: (sample: Sample) => void;
}

export type ShownLabel = { label?: Pick<LabelHead, 'confidences' | 'ambiguous' | 'boxes'>; pending: boolean };

export function createSaveLink(options: SaveLinkOptions) {
  const shared = sharedSaveRunner(options.api, options.projectId, options.labeler);
  const [queue, setQueue] = createSignal<QueueState>(shared.runner.state());

  const unsubscribe = [
    shared.onChange((s) => {
      setQueue(s);
      const head = s.items[0];
      if (head && head.attempts > 0 && head.unreachable) options.setOffline(true);
    }),
    shared.onSaved((_op, sample) => {
      options.setOffline(false);
      options.onSaved(sample);
    }),
  ];

  /** The label to show for a history entry: the latest queued write (not yet saved) or the server's. */
  function shownLabel(served: Served): ShownLabel {
    const ops = queue().items.filter((i) => i.op.sampleId === served.sample.sampleId).map((i) => i.op);
    const last = ops[ops.length - 1];
    if (last?.kind === 'label') {
      const n = options.classes().length;
      const confidences =
        last.label.confidences ?? Array.from({ length: n }, (_, i) => (i === last.label.classIndex ? 1 : 0));
      const boxes = last.label.boxes;
      return { label: { confidences, ambiguous: last.label.ambiguous ?? false, ...(boxes ? { boxes } : {}) }, pending: true };
    }
    if (last?.kind === 'undo') return { pending: true };
    return { label: served.sample.label, pending: false };
  }

  return {
    queue,
    unsaved: () => queue().items.length,
    failed: () => queue().failed,
    statusOf: (sampleId: string) => sampleStatus(queue(), sampleId),
    shownLabel,
    /** Samples whose labels, restored from an earlier visit, are still on their way. */
    pendingLabels: () => shared.runner.state().items.filter((i) => i.op.kind === 'label').map((i) => i.op.sampleId),
    enqueue: (op: SaveOp) => shared.runner.enqueue(op),
    retryNow: () => shared.runner.retryNow(),
    dismissFailed: (requestId: string) => shared.runner.dismiss(requestId),
    dispose: () => unsubscribe.forEach((u) => u()),
  };
}
