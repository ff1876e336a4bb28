// The unsaved-label queue. A label leaves the labeler's hands the moment they press a key, but it is only
// "saved" once the server acknowledged it. Rules:
// - writes go out one at a time, in the order they were made (a relabel never overtakes the label it fixes,
//   an undo never overtakes the label it undoes);
// - each write keeps the idempotency key (requestId) it was born with across every retry, so a write whose
//   answer was lost is acknowledged by the server, not duplicated;
// - network errors and 5xx are retried with capped exponential backoff; 4xx (stale version, bad label, nothing
//   to undo) are permanent and shown to the labeler, together with the later writes to the same sample that
//   depended on them;
// - 401 (the sign-in ran out) is not the label's fault: the write waits, unsent, until the labeler signs in again;
// - a write to a sample that already has a write in the queue takes its version from that write's answer.
// The pure part is a set of state transitions; `createSaveRunner` drives them with a real API and timers.

import { ApiError } from '../api/api.js';
import type { LabelBody, Sample } from '../api/types.js';

export type SaveOp =
  | {
      kind: 'label';
      requestId: string;
      projectId: string;
      sampleId: string;
      /** Sample version the label applies to; undefined while an earlier write to the same sample is queued. */
      version?: number;
      label: Omit<LabelBody, 'version' | 'requestId'>;
    }
  | { kind: 'undo'; requestId: string; projectId: string; sampleId: string };

export interface QueueItem {
  op: SaveOp;
  attempts: number;
  /** Epoch ms before which the item is not sent again. */
  notBefore: number;
  sending: boolean;
  lastError?: string;
  /** The last attempt did not reach a working server (network error or 5xx), as opposed to a 401. */
  unreachable?: boolean;
}

export interface FailedItem {
  op: SaveOp;
  code: string;
  message: string;
}

export interface QueueState {
  items: QueueItem[];
  failed: FailedItem[];
}

export const emptyQueue = (): QueueState => ({ items: [], failed: [] });

export function enqueue(state: QueueState, op: SaveOp): QueueState {
  const chained = state.items.some((i) => i.op.sampleId === op.sampleId);
  const queued = op.kind === 'label' && chained ? { ...op, version: undefined } : op;
  return { ...state, items: [...state.items, { op: queued, attempts: 0, notBefore: 0, sending: false }] };
}

/** The item to send now, if any: only the head, so order is preserved. */
export function nextToSend(state: QueueState, now: number): QueueItem | undefined {
  const head = state.items[0];
  if (!head || head.sending || head.notBefore > now) return undefined;
  return head;
}

/** When the head becomes sendable (for the runner's timer), or undefined if nothing waits. */
export function wakeAt(state: QueueState): number | undefined {
  const head = state.items[0];
  return head && !head.sending ? head.notBefore : undefined;
}

export function markSending(state: QueueState, requestId: string): QueueState {
  return { ...state, items: state.items.map((i) => (i.op.requestId === requestId ? { ...i, sending: true } : i)) };
}

/** The server acknowledged the write; the next queued write to the same sample applies to the returned version. */
export function acknowledge(state: QueueState, requestId: string, sample: Pick<Sample, 'sampleId' | 'version'>): QueueState {
  const rest = state.items.filter((i) => i.op.requestId !== requestId);
  const next = rest.find((i) => i.op.sampleId === sample.sampleId);
  const items = rest.map((i) =>
    i === next && i.op.kind === 'label' ? { ...i, op: { ...i.op, version: sample.version } } : i,
  );
  return { ...state, items };
}

/** Backoff before attempt `attempts + 1`: 0.5 s doubling to 30 s, with jitter so many tabs do not retry in step. */
export function backoffDelay(attempts: number, random = 0.5): number {
  const base = Math.min(30_000, 500 * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.75 + random * 0.5));
}

/** A retryable failure: try the same write (same requestId) again later. */
export function retryLater(state: QueueState, requestId: string, error: string, now: number, random = 0.5, unreachable = true): QueueState {
  const items = state.items.map((i) => {
    if (i.op.requestId !== requestId) return i;
    const attempts = i.attempts + 1;
    return { ...i, attempts, sending: false, lastError: error, unreachable, notBefore: now + backoffDelay(attempts, random) };
  });
  return { ...state, items };
}

/** A permanent failure: the write and every later write to the same sample (they built on it) leave the queue. */
export function failPermanently(state: QueueState, requestId: string, code: string, message: string): QueueState {
  const item = state.items.find((i) => i.op.requestId === requestId);
  if (!item) return state;
  const sampleId = item.op.sampleId;
  const index = state.items.indexOf(item);
  const dropped = state.items.filter((i, k) => k >= index && i.op.sampleId === sampleId);
  const failed: FailedItem[] = dropped.map((i) =>
    i === item
      ? { op: i.op, code, message }
      : { op: i.op, code: 'dependency_failed', message: `not sent: an earlier change to this sample failed (${code})` },
  );
  return { items: state.items.filter((i) => !dropped.includes(i)), failed: [...state.failed, ...failed] };
}

/** Puts every waiting item up for sending now (the network came back, or the labeler pressed "retry"). */
export function retryAllNow(state: QueueState): QueueState {
  return { ...state, items: state.items.map((i) => (i.sending ? i : { ...i, notBefore: 0 })) };
}

export function dismissFailed(state: QueueState, requestId: string): QueueState {
  return { ...state, failed: state.failed.filter((f) => f.op.requestId !== requestId) };
}

export type SaveStatus = 'unsaved' | 'saving' | 'failed' | undefined;

/** The labeler-visible state of a sample's writes: undefined means everything for it is acknowledged. */
export function sampleStatus(state: QueueState, sampleId: string): SaveStatus {
  const item = state.items.find((i) => i.op.sampleId === sampleId);
  if (item) return item.sending && item.attempts === 0 ? 'saving' : 'unsaved';
  return state.failed.some((f) => f.op.sampleId === sampleId) ? 'failed' : undefined;
}

// ---- runner ----

/** What the runner needs from the API client (a subset of `Api`). */
export interface SaveTransport {
  annotate(projectId: string, sampleId: string, body: LabelBody): Promise<{ sample: Sample }>;
  undo(projectId: string, body: { requestId: string; sampleId?: string }): Promise<{ sample: Sample }>;
}

export interface SaveRunnerOptions {
  transport: SaveTransport;
  /** Called after every state change (render, persist). */
  onChange?: (state: QueueState) => void;
  /** Called when the server acknowledged a write, with the sample as it now stands. */
  onSaved?: (op: SaveOp, sample: Sample) => void;
  initial?: QueueState;
  /** Whether writes may go out now (false while nobody, or somebody else, is signed in); call retryNow() when
   * it turns true again. */
  ready?: () => boolean;
  now?: () => number;
  random?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export interface SaveRunner {
  state(): QueueState;
  enqueue(op: SaveOp): void;
  retryNow(): void;
  dismiss(requestId: string): void;
  /** Resolves when the queue is empty or only waits for a retry (tests, "finish before leaving"). */
  idle(): Promise<void>;
  stop(): void;
}

export function createSaveRunner(options: SaveRunnerOptions): SaveRunner {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  let state = options.initial ?? emptyQueue();
  // Items restored from storage may have been "sending" when the tab closed: send them again (same key).
  state = { ...state, items: state.items.map((i) => ({ ...i, sending: false })) };
  let timer: unknown;
  let stopped = false;
  let inFlight: Promise<void> | undefined;

  const set = (next: QueueState) => {
    state = next;
    options.onChange?.(state);
  };

  function pump(): void {
    if (stopped || inFlight) return;
    // Signed out: nothing is sent (or retried) until sign-in calls retryNow().
    if (options.ready && !options.ready()) return;
    const item = nextToSend(state, now());
    if (!item) {
      schedule();
      return;
    }
    set(markSending(state, item.op.requestId));
    inFlight = send(item.op).finally(() => {
      inFlight = undefined;
      pump();
    });
  }

  function schedule(): void {
    if (timer !== undefined) clearTimer(timer);
    timer = undefined;
    const at = wakeAt(state);
    if (at === undefined || stopped) return;
    timer = setTimer(() => {
      timer = undefined;
      pump();
    }, Math.max(0, at - now()));
  }

  async function send(op: SaveOp): Promise<void> {
    try {
      const { sample } =
        op.kind === 'label'
          ? await options.transport.annotate(op.projectId, op.sampleId, sendableBody(op))
          : await options.transport.undo(op.projectId, { requestId: op.requestId, sampleId: op.sampleId });
      set(acknowledge(state, op.requestId, sample));
      options.onSaved?.(op, sample);
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(0, 'network', String((err as Error)?.message ?? err));
      if (e.retryable || e.status === 401) set(retryLater(state, op.requestId, e.message, now(), random(), e.status !== 401));
      else set(failPermanently(state, op.requestId, e.code, e.message));
    }
  }

  function sendableBody(op: Extract<SaveOp, { kind: 'label' }>): LabelBody {
    if (op.version === undefined) {
      // Only possible if the write it chained on vanished; refuse rather than guess a version.
      throw new ApiError(409, 'stale_version', 'the version this label applies to is unknown');
    }
    return { version: op.version, requestId: op.requestId, ...op.label };
  }

  return {
    state: () => state,
    enqueue(op) {
      set(enqueue(state, op));
      pump();
    },
    retryNow() {
      set(retryAllNow(state));
      pump();
    },
    dismiss(requestId) {
      set(dismissFailed(state, requestId));
    },
    async idle() {
      while (inFlight) await inFlight;
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimer(timer);
    },
  };
}

/** An idempotency key; crypto.randomUUID where available (secure contexts), a random fallback elsewhere. */
export function newRequestId(): string {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID();
  const bytes = new Uint8Array(16);
  c.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
