// A labeler's session on one project: the sample in view, the prefetched ones behind it, the labeler's history
// (for Left/Right and undo), the draft label, and the link to the save queue. The view only renders this state
// and turns keys and clicks into the actions below.

import { batch, createSignal } from 'solid-js';
import { ApiError, type Api } from './api.js';
import { ACCEPT_THRESHOLD, acceptableSuggestion, cycleLevel, emptyDraft, isDraftEmpty, percent, toggleClass, topSuggestion, type Draft } from './labels.js';
import { newRequestId, sampleStatus, type QueueState, type SaveOp } from './saveQueue.js';
import { sharedSaveRunner } from './saving.js';
import type { LabelHead, ModelStatus, Progress, Project, Quality, Sample, Served } from './types.js';

export interface SessionOptions {
  api: Api;
  projectId: string;
  labeler: string;
  /** How many samples to keep loaded ahead of the one in view: enough to keep labeling for a few minutes while
   * the server is unreachable (DEFAULT_PREFETCH unless the labeler set `winnow.prefetch` in this browser). */
  prefetch?: number;
  /** Test hook: delays (ms) before refreshing progress and quality after saves. */
  refreshDelay?: number;
}

/** Prefetched samples by default: at a few seconds per label, minutes of work if the server goes away. Each holds a
 * decoded display-size image (~1600 px, a few MB of memory), so not hundreds. */
export const DEFAULT_PREFETCH = 25;
/** The API's largest `count` for next (it returns the caller's still-leased samples among the first). */
const MAX_COUNT = 50;

export type LabelSession = ReturnType<typeof createLabelSession>;
type LabelPart = Extract<SaveOp, { kind: 'label' }>['label'];

export function createLabelSession(options: SessionOptions) {
  const { api, projectId, labeler } = options;
  const target = Math.max(1, Math.min(MAX_COUNT - 10, Math.round(options.prefetch ?? DEFAULT_PREFETCH)));
  /** Below this many prefetched samples, fetch more (in batches, not one request per label). */
  const lowWater = Math.max(1, Math.floor(target / 2));
  const refreshDelay = options.refreshDelay ?? 1000;

  const [project, setProject] = createSignal<Project>();
  const [current, setCurrent] = createSignal<Served>();
  const [buffer, setBuffer] = createSignal<Served[]>([]);
  const [history, setHistory] = createSignal<Served[]>([]);
  /** null: the front of the queue (current); a number: an entry of history. */
  const [cursor, setCursor] = createSignal<number | null>(null);
  const [draft, setDraft] = createSignal<Draft>(emptyDraft(0));
  const [progress, setProgress] = createSignal<Progress>();
  const [quality, setQuality] = createSignal<Quality>();
  const [model, setModel] = createSignal<ModelStatus>();
  const [serverDone, setServerDone] = createSignal(false);
  const [loading, setLoading] = createSignal(true);
  const [loadError, setLoadError] = createSignal<string>();
  const [notice, setNotice] = createSignal<string>();
  const [skippedCount, setSkippedCount] = createSignal(0);
  /** The server could not be reached (network error or 5xx) on the last load or save; cleared by the next answer. */
  const [offline, setOffline] = createSignal(false);
  const [notFound, setNotFound] = createSignal(false);
  /** When each label of this session was given (for the session summary). */
  const [labeledAt, setLabeledAt] = createSignal<number[]>([]);
  /** The labeler's starting point for the entry in view: its saved label in history, nothing at the front. */
  const [draftStart, setDraftStart] = createSignal<Draft>(emptyDraft(0));

  const shared = sharedSaveRunner(api, projectId, labeler);
  const [queue, setQueue] = createSignal<QueueState>(shared.runner.state());
  /** Samples skipped in this session: not shown again while anything else is there to label. */
  const skipped = new Set<string>();
  /** Skipped samples the server could not be told about (still leased to me, so /next keeps returning them). */
  const skippedHeld = new Set<string>();
  /** Samples labeled in this session or before it (history): never shown again as new. */
  const handled = new Set<string>();
  const preloaded = new Map<string, HTMLImageElement>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let fetching = false;
  let disposed = false;
  let emptyPolls = 0;

  const unsubscribe = [
    shared.onChange((s) => {
      setQueue(s);
      // A save waiting on a network error or a 5xx means the server is away; an acknowledged one, that it is back.
      const head = s.items[0];
      if (head && head.attempts > 0 && head.unreachable) setOffline(true);
    }),
    shared.onSaved((_op, sample) => {
      setOffline(false);
      applyServerSample(sample);
      refreshSoon();
    }),
  ];
  // Labels restored from an earlier visit are still on their way: their samples are not new.
  for (const item of shared.runner.state().items) if (item.op.kind === 'label') handled.add(item.op.sampleId);

  // ---- what the view shows ----

  const viewed = (): Served | undefined => {
    const c = cursor();
    return c === null ? current() : history()[c];
  };
  const inHistory = () => cursor() !== null;
  const classes = () => project()?.classes ?? [];
  const unsaved = () => queue().items.length;
  const failed = () => queue().failed;
  const statusOf = (sampleId: string) => sampleStatus(queue(), sampleId);

  /** The label to show for a history entry: the latest queued write (not yet saved) or the server's. */
  function shownLabel(served: Served): { label?: Pick<LabelHead, 'confidences' | 'ambiguous' | 'boxes'>; pending: boolean } {
    const ops = queue().items.filter((i) => i.op.sampleId === served.sample.sampleId).map((i) => i.op);
    const last = ops[ops.length - 1];
    if (last?.kind === 'label') {
      const n = classes().length;
      const confidences =
        last.label.confidences ?? Array.from({ length: n }, (_, i) => (i === last.label.classIndex ? 1 : 0));
      const boxes = last.label.boxes;
      return { label: { confidences, ambiguous: last.label.ambiguous ?? false, ...(boxes ? { boxes } : {}) }, pending: true };
    }
    if (last?.kind === 'undo') return { pending: true };
    return { label: served.sample.label, pending: false };
  }

  // ---- loading ----

  async function start(): Promise<void> {
    // Everything the view needs is requested at once: no waterfall.
    const projectP = api.getProject(projectId);
    const historyP = api.history(projectId, 50).catch(() => []);
    const nextP = fillBuffer();
    refreshProgress();
    refreshQuality();
    try {
      const p = await projectP;
      batch(() => {
        setProject(p);
        setDraftStart(emptyDraft(p.classes.length));
        setDraft(emptyDraft(p.classes.length));
      });
      const earlier = oldestFirstUnique(await historyP, history());
      earlier.forEach((s) => handled.add(idOf(s)));
      batch(() => {
        setHistory((h) => [...earlier, ...h]);
        // Keep the labeler on the entry they may already be viewing.
        setCursor((c) => (c === null ? c : c + earlier.length));
      });
      await nextP;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        // No such project (or not one this labeler may see): one clear state, nothing keeps loading.
        dispose();
        setNotFound(true);
      } else if (err instanceof ApiError && err.retryable) {
        setOffline(true);
        later(() => void start(), 3000);
        return;
      } else setLoadError((err as Error).message);
    } finally {
      setLoading(false);
    }
  }

  async function fillBuffer(): Promise<void> {
    if (fetching || disposed || serverDone()) return;
    if (current() && buffer().length >= lowWater) return;
    fetching = true;
    try {
      // The server first returns samples still leased to me (in view, prefetched, or labeled and not yet
      // acknowledged); ask for enough to get `target` new ones after those. A skip hands the sample back to the
      // server (free for others, served to me again once nothing else is left), so skips do not crowd /next; only
      // skips the server could not be told about still hold leases.
      if (skippedHeld.size > MAX_COUNT - target - lowWater) {
        for (const id of skippedHeld) skipped.delete(id);
        skippedHeld.clear();
        setSkippedCount(skipped.size);
      }
      const leased = buffer().length + skippedHeld.size + unsaved() + (current() ? 1 : 0);
      // `target` ahead of the one in view, so one more while nothing is in view yet.
      const response = await api.next(projectId, Math.min(MAX_COUNT, leased + target + (current() ? 0 : 1)));
      if (disposed) return;
      if (offline()) {
        // Back: send the labels kept in the browser now rather than after their backoff.
        setOffline(false);
        shared.runner.retryNow();
      }
      const known = new Set([...handled, ...buffer().map(idOf), ...(current() ? [idOf(current()!)] : [])]);
      // A sample whose image record is missing cannot be shown; the server reports it on the image.
      const offered = response.samples.filter((s) => s.image && !known.has(idOf(s)));
      let fresh = offered.filter((s) => !skipped.has(idOf(s)));
      if (fresh.length === 0 && offered.length > 0 && !current() && buffer().length === 0) {
        // Only samples I skipped are left for me: skipping was "later", and later is now.
        fresh = offered;
        for (const s of offered) {
          skipped.delete(idOf(s));
          skippedHeld.delete(idOf(s));
        }
        setSkippedCount(skipped.size);
      }
      fresh.forEach((s) => preload(s.image.url));
      batch(() => {
        if (response.model) setModel(response.model);
        setServerDone(response.done);
        setBuffer((b) => [...b, ...fresh]);
        if (!current()) advance(false);
      });
      // Nothing new, but not done: labels still being saved, or other labelers hold the rest. Look again, less
      // and less often.
      emptyPolls = fresh.length === 0 && !response.done ? emptyPolls + 1 : 0;
      if (emptyPolls > 0) later(() => fillBuffer(), Math.min(15_000, 500 * 2 ** (emptyPolls - 1)));
      // Nothing left for now: other labelers' leases expire and uploads arrive, so look again now and then.
      if (response.done && !current()) later(() => current() || checkAgain(), 15_000);
    } catch (err) {
      const away = err instanceof ApiError && err.retryable;
      if (away) {
        // The server is unreachable: the offline banner says so (and that labels are kept); keep trying by itself.
        setOffline(true);
        later(() => fillBuffer(), 3000);
      } else if (err instanceof ApiError && err.status === 404) {
        // Project gone or never there: no retry loop, the view shows "not found".
        setLoadError(`Could not load the next image: ${err.message}`);
      } else {
        // Prefetch failures are retried; say so only if there is nothing to show.
        if (!current()) setLoadError(`Could not load the next image: ${(err as Error).message}`);
        later(() => fillBuffer(), 3000);
      }
    } finally {
      fetching = false;
    }
  }

  function preload(url: string): void {
    if (typeof Image === 'undefined' || preloaded.has(url)) return;
    const img = new Image();
    img.decoding = 'async';
    img.src = url;
    // Decoding ahead means the next image paints in the frame after the key press.
    img.decode?.().catch(() => undefined);
    preloaded.set(url, img);
    if (preloaded.size > 2 * MAX_COUNT) preloaded.delete(preloaded.keys().next().value!);
  }

  function advance(fetchMore = true): void {
    const [head, ...rest] = buffer();
    batch(() => {
      setCurrent(head);
      setBuffer(rest);
      startDraft(undefined);
      if (head) setLoadError(undefined);
    });
    if (fetchMore) void fillBuffer();
  }

  // ---- labeling ----

  function submit(label: LabelPart): void {
    const served = viewed();
    if (!served) return;
    shared.runner.enqueue({
      kind: 'label',
      requestId: newRequestId(),
      projectId,
      sampleId: idOf(served),
      version: served.sample.version,
      label,
    });
    handled.add(idOf(served));
    setLabeledAt((t) => [...t, Date.now()]);
    if (cursor() === null) {
      batch(() => {
        setHistory((h) => [...h.filter((x) => idOf(x) !== idOf(served)), served]);
        advance();
      });
    } else {
      forward();
    }
  }

  function label(classIndex: number): void {
    const p = project();
    if (!p || !viewed() || classIndex >= p.classes.length) return;
    if (p.taskType === 'multi-label') {
      setDraft((d) => toggleClass(p, d, classIndex));
      return;
    }
    const ambiguous = draft().ambiguous;
    submit(ambiguous ? { classIndex, ambiguous } : { classIndex });
  }

  function cycleConfidence(classIndex: number): void {
    const p = project();
    if (p && classIndex < p.classes.length) setDraft((d) => cycleLevel(p, d, classIndex));
  }

  function toggleAmbiguous(): void {
    if (project()?.allowAmbiguous) setDraft((d) => ({ ...d, ambiguous: !d.ambiguous }));
  }

  /** The draft differs from its starting point (the saved label in history, nothing at the front). */
  const draftChanged = (): boolean => !sameDraft(draft(), draftStart());

  /** Enter/Space: save what the labeler set, or else take the model's suggestion. In history the saved label is
   * the starting point: Enter with nothing changed keeps it (and moves on); it never takes the model's suggestion
   * over a human label. */
  function accept(): void {
    const served = viewed();
    if (!served) return;
    const d = draft();
    if (inHistory() && shownLabel(served).label) {
      if (!draftChanged()) {
        forward();
        return;
      }
      if (isDraftEmpty(d)) {
        say('Pick a class: a saved label is changed by choosing a new one, or undone with Backspace.');
        return;
      }
    }
    if (!isDraftEmpty(d)) {
      submit(d.ambiguous ? { confidences: d.confidences, ambiguous: true } : { confidences: d.confidences });
      return;
    }
    const suggestion = acceptableSuggestion(served.sample.suggestions);
    if (suggestion) submit({ classIndex: suggestion.classIndex });
    else if (topSuggestion(served.sample.suggestions)) say(`The model is not sure enough to accept (under ${percent(ACCEPT_THRESHOLD)}): pick a class.`);
    else say('No suggestion to accept: pick a class.');
  }

  /** Backspace: undo the label on screen (walking back) or else the newest one; that image comes back to label. */
  function undo(): void {
    const h = history();
    const index = cursor() ?? h.length - 1;
    const target = h[index];
    if (!target) {
      say('Nothing to undo.');
      return;
    }
    if (!shownLabel(target).label) {
      say('This image has no label of yours to undo.');
      return;
    }
    shared.runner.enqueue({ kind: 'undo', requestId: newRequestId(), projectId, sampleId: idOf(target) });
    handled.delete(idOf(target));
    batch(() => {
      setHistory(h.filter((_, k) => k !== index));
      setCursor(null);
      const c = current();
      if (c) setBuffer((b) => [c, ...b]);
      setCurrent(target);
      startDraft(undefined);
    });
    say('Undone: label this image again.');
  }

  function skip(): void {
    if (inHistory()) return forward();
    const c = current();
    if (!c) return;
    const id = idOf(c);
    skipped.add(id);
    skippedHeld.add(id);
    setSkippedCount(skipped.size);
    advance();
    api.skip(projectId, id).then(
      () => skippedHeld.delete(id),
      () => undefined, // an older server without skip: the sample stays leased to me until it expires
    );
  }

  function back(): void {
    const n = history().length;
    if (n === 0) return;
    const c = cursor();
    const to = c === null ? n - 1 : Math.max(0, c - 1);
    batch(() => {
      setCursor(to);
      startDraft(history()[to]);
    });
  }

  /** Jumps to history entry `index` (the history strip). */
  function visit(index: number): void {
    const entry = history()[index];
    if (!entry) return;
    batch(() => {
      setCursor(index);
      startDraft(entry);
    });
  }

  function forward(): void {
    const c = cursor();
    if (c === null) return;
    const to = c + 1 >= history().length ? null : c + 1;
    batch(() => {
      setCursor(to);
      startDraft(to === null ? undefined : history()[to]);
    });
  }

  /** Esc: back to the starting point (the saved label in history); the view closes overlays first. */
  function clearDraft(): void {
    setDraft(draftStart());
  }

  /** Sets the draft's starting point: a history entry's label (queued or saved), or nothing at the front. */
  function startDraft(served: Served | undefined): void {
    const n = classes().length;
    const l = served ? shownLabel(served).label : undefined;
    const start: Draft =
      l && !l.boxes && l.confidences.length === n ? { confidences: [...l.confidences], ambiguous: !!l.ambiguous } : emptyDraft(n);
    batch(() => {
      setDraftStart(start);
      setDraft(start);
    });
  }

  /** "Check again" once the queue looked empty (other labelers' leases expire, uploads arrive). */
  function checkAgain(): void {
    setServerDone(false);
    skipped.clear();
    skippedHeld.clear();
    setSkippedCount(0);
    void fillBuffer();
  }

  /** Presigned image URLs expire: fetch a fresh one for a sample whose image failed to load. */
  const refreshedAt = new Map<string, number>();
  async function refreshImage(sampleId: string): Promise<void> {
    // An image that fails even with a fresh URL must not trigger a request loop.
    if (Date.now() - (refreshedAt.get(sampleId) ?? 0) < 30_000) return;
    refreshedAt.set(sampleId, Date.now());
    try {
      const { sample, image } = await api.sample(projectId, sampleId);
      const update = (s: Served) => (idOf(s) === sampleId ? { ...s, image, sample: newer(s.sample, sample) } : s);
      batch(() => {
        setCurrent((c) => (c ? update(c) : c));
        setBuffer((b) => b.map(update));
        setHistory((h) => h.map(update));
      });
    } catch (err) {
      say(`Could not load the image: ${(err as Error).message}`);
    }
  }

  // ---- server answers ----

  function applyServerSample(sample: Sample): void {
    const update = (s: Served) => (idOf(s) === sample.sampleId ? { ...s, sample: newer(s.sample, sample) } : s);
    batch(() => {
      setCurrent((c) => (c ? update(c) : c));
      setBuffer((b) => b.map(update));
      setHistory((h) => h.map(update));
    });
  }

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

  // Throttled with a leading edge: the first save refreshes at once, a burst of saves refreshes once more after.
  let refreshPending = false;
  let lastRefresh = 0;
  function refreshSoon(): void {
    if (refreshPending) return;
    const wait = lastRefresh + refreshDelay - Date.now();
    const run = () => {
      refreshPending = false;
      lastRefresh = Date.now();
      void refreshProgress();
      void refreshQuality();
    };
    if (wait <= 0) return run();
    refreshPending = true;
    later(run, wait);
  }

  function later(fn: () => void, ms: number): void {
    if (disposed) return;
    const t = setTimeout(() => {
      timers.delete(t);
      if (!disposed) fn();
    }, ms);
    timers.add(t);
  }

  let noticeTimer: ReturnType<typeof setTimeout> | undefined;
  function say(message: string): void {
    setNotice(message);
    if (noticeTimer) clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => setNotice(undefined), 4000);
  }

  function dispose(): void {
    disposed = true;
    timers.forEach(clearTimeout);
    if (noticeTimer) clearTimeout(noticeTimer);
    unsubscribe.forEach((u) => u());
  }

  return {
    // state
    project,
    current,
    buffer,
    history,
    cursor,
    viewed,
    inHistory,
    draft,
    progress,
    quality,
    model,
    queue,
    unsaved,
    failed,
    statusOf,
    shownLabel,
    serverDone,
    loading,
    loadError,
    notice,
    skippedCount,
    offline,
    notFound,
    draftChanged,
    prefetchTarget: target,
    labeledAt,
    // actions
    start,
    submit,
    say,
    label,
    cycleConfidence,
    toggleAmbiguous,
    accept,
    undo,
    skip,
    back,
    forward,
    visit,
    clearDraft,
    checkAgain,
    refreshImage,
    retryNow: () => shared.runner.retryNow(),
    dismissFailed: (requestId: string) => shared.runner.dismiss(requestId),
    dispose,
  };
}

const idOf = (s: Served) => s.sample.sampleId;

const sameDraft = (a: Draft, b: Draft): boolean =>
  a.ambiguous === b.ambiguous && a.confidences.length === b.confidences.length && a.confidences.every((c, i) => Math.abs(c - (b.confidences[i] ?? 0)) < 1e-9);

/** The server's history (newest last), one entry per sample, minus samples already in this session's history. */
function oldestFirstUnique(items: Served[], session: Served[]): Served[] {
  const seen = new Set(session.map(idOf));
  const out: Served[] = [];
  for (let i = items.length - 1; i >= 0; i--) {
    if (seen.has(idOf(items[i]))) continue;
    seen.add(idOf(items[i]));
    out.push(items[i]);
  }
  return out.reverse();
}

/** Keeps whichever copy of a sample is newer (answers can arrive out of order with prefetches). */
function newer(mine: Sample, theirs: Sample): Sample {
  return theirs.version >= mine.version ? theirs : mine;
}
