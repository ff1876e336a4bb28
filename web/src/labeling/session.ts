// A labeler's session on one project, composed from small stores: the samples in front of the labeler
// (prefetch.ts), the history and the cursor in it (historyCursor.ts), the draft label (draft.ts), progress and
// quality read again after saves (refresh.ts), and the link to the save queue (saves.ts). This file
// holds the labeling actions that span them (label, accept, undo, skip) and the first load. The view only renders
// this state and turns keys and clicks into the actions below.

import { batch, createSignal } from 'solid-js';
import { ApiError, type Api } from '../api/api.js';
import { createDraft } from './draft.js';
import { createHistoryCursor } from './historyCursor.js';
import { ACCEPT_THRESHOLD, acceptableSuggestion, isDraftEmpty, percent, topSuggestion } from './labels.js';
import { createLifetime, createNotice } from './lifetime.js';
import { createPrefetchQueue, idOf } from './prefetch.js';
import { createRefresh } from './refresh.js';
import { createSaveLink } from './saves.js';
import { newRequestId, type SaveOp } from '../saving/saveQueue.js';
import { hasImage, type HistoryItem, type Project, type Sample, type Served } from '../api/types.js';

export { DEFAULT_PREFETCH } from './prefetch.js';

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

export type LabelSession = ReturnType<typeof createLabelSession>;
type LabelPart = Extract<SaveOp, { kind: 'label' }>['label'];

export function createLabelSession(options: SessionOptions) {
  const { api, projectId, labeler } = options;

  const [project, setProject] = createSignal<Project>();
  const [loading, setLoading] = createSignal(true);
  const [loadError, setLoadError] = createSignal<string>();
  /** The server could not be reached (network error or 5xx) on the last load or save; cleared by the next answer. */
  const [offline, setOffline] = createSignal(false);
  const [notFound, setNotFound] = createSignal(false);
  /** When each label of this session was given (for the session summary). */
  const [labeledAt, setLabeledAt] = createSignal<number[]>([]);

  const lifetime = createLifetime();
  const { later } = lifetime;
  const notice = createNotice();
  const say = notice.say;
  const saves = createSaveLink({
    api,
    projectId,
    labeler,
    classes: () => classes(),
    setOffline,
    onSaved: (sample) => {
      applyServerSample(sample);
      refresh.refreshSoon();
    },
  });
  const { queue, unsaved, failed, statusOf, shownLabel } = saves;
  const draft = createDraft();
  const hist = createHistoryCursor((entry) => startDraft(entry));
  const { history, cursor } = hist;
  const refresh = createRefresh(api, projectId, options.refreshDelay ?? 1000, later);
  const ahead = createPrefetchQueue({
    api,
    projectId,
    prefetch: options.prefetch,
    later,
    disposed: lifetime.disposed,
    unsaved,
    offline,
    setOffline,
    setLoadError,
    retrySaves: saves.retryNow,
    onAdvance: () => startDraft(undefined),
  });
  const { current, handled } = ahead;

  // Labels restored from an earlier visit are still on their way: their samples are not new.
  for (const sampleId of saves.pendingLabels()) handled.add(sampleId);

  // ---- what the view shows ----

  const viewed = (): Served | undefined => {
    const c = cursor();
    return c === null ? current() : history()[c];
  };
  const inHistory = () => cursor() !== null;
  const classes = () => project()?.classes ?? [];

  /** Sets the draft's starting point: a history entry's label (queued or saved), or nothing at the front. */
  function startDraft(served: Served | undefined): void {
    draft.startFrom(served ? shownLabel(served).label : undefined, classes().length);
  }

  // ---- loading ----

  async function start(): Promise<void> {
    // Everything the view needs is requested at once: no waterfall.
    const projectP = api.getProject(projectId);
    const historyP = api.history(projectId, 50).catch((): HistoryItem[] => []);
    const nextP = ahead.fill();
    refresh.refreshProgress();
    refresh.refreshQuality();
    try {
      const p = await projectP;
      batch(() => {
        setProject(p);
        draft.startFrom(undefined, p.classes.length);
      });
      const earlier = oldestFirstUnique((await historyP).filter(hasImage), history());
      earlier.forEach((s) => handled.add(idOf(s)));
      hist.prepend(earlier);
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

  // ---- labeling ----

  function submit(label: LabelPart): void {
    const served = viewed();
    if (!served) return;
    saves.enqueue({
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
        hist.setHistory((h) => [...h.filter((x) => idOf(x) !== idOf(served)), served]);
        ahead.advance();
      });
    } else {
      hist.forward();
    }
  }

  function label(classIndex: number): void {
    const p = project();
    if (!p || !viewed() || classIndex >= p.classes.length) return;
    if (p.taskType === 'multi-label') {
      draft.toggleClass(p, classIndex);
      return;
    }
    const ambiguous = draft.draft().ambiguous;
    submit(ambiguous ? { classIndex, ambiguous } : { classIndex });
  }

  function cycleConfidence(classIndex: number): void {
    const p = project();
    if (p && classIndex < p.classes.length) draft.cycleLevel(p, classIndex);
  }

  function toggleAmbiguous(): void {
    if (project()?.allowAmbiguous) draft.toggleAmbiguous();
  }

  /** Enter/Space: save what the labeler set, or else take the model's suggestion. In history the saved label is
   * the starting point: Enter with nothing changed keeps it (and moves on); it never takes the model's suggestion
   * over a human label. */
  function accept(): void {
    const served = viewed();
    if (!served) return;
    const d = draft.draft();
    if (inHistory() && shownLabel(served).label) {
      if (!draft.changed()) {
        hist.forward();
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
    saves.enqueue({ kind: 'undo', requestId: newRequestId(), projectId, sampleId: idOf(target) });
    handled.delete(idOf(target));
    batch(() => {
      hist.setHistory(h.filter((_, k) => k !== index));
      hist.setCursor(null);
      ahead.putBack(target);
      startDraft(undefined);
    });
    say('Undone: label this image again.');
  }

  function skip(): void {
    if (inHistory()) return hist.forward();
    ahead.skip();
  }

  /** Presigned image URLs expire: fetch a fresh one for a sample whose image failed to load. */
  const refreshedAt = new Map<string, number>();
  async function refreshImage(sampleId: string): Promise<void> {
    // An image that fails even with a fresh URL must not trigger a request loop.
    if (Date.now() - (refreshedAt.get(sampleId) ?? 0) < 30_000) return;
    refreshedAt.set(sampleId, Date.now());
    try {
      const { sample, image } = await api.sample(projectId, sampleId);
      updateEverywhere((s) => (idOf(s) === sampleId ? { ...s, ...(image ? { image } : {}), sample: newer(s.sample, sample) } : s));
    } catch (err) {
      say(`Could not load the image: ${(err as Error).message}`);
    }
  }

  // ---- server answers ----

  function applyServerSample(sample: Sample): void {
    updateEverywhere((s) => (idOf(s) === sample.sampleId ? { ...s, sample: newer(s.sample, sample) } : s));
  }

  function updateEverywhere(update: (s: Served) => Served): void {
    batch(() => {
      ahead.update(update);
      hist.setHistory((h) => h.map(update));
    });
  }

  function dispose(): void {
    lifetime.dispose();
    notice.dispose();
    saves.dispose();
  }

  return {
    // state
    project,
    current,
    buffer: ahead.buffer,
    history,
    cursor,
    viewed,
    inHistory,
    draft: draft.draft,
    progress: refresh.progress,
    quality: refresh.quality,
    model: ahead.model,
    queue,
    unsaved,
    failed,
    statusOf,
    shownLabel,
    serverDone: ahead.serverDone,
    loading,
    loadError,
    notice: notice.notice,
    skippedCount: ahead.skippedCount,
    offline,
    notFound,
    draftChanged: draft.changed,
    prefetchTarget: ahead.target,
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
    back: hist.back,
    forward: hist.forward,
    visit: hist.visit,
    clearDraft: draft.clear,
    checkAgain: ahead.checkAgain,
    refreshImage,
    retryNow: saves.retryNow,
    dismissFailed: saves.dismissFailed,
    dispose,
  };
}

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
