// The samples in front of the labeler: the one in view (`current`) and the prefetched ones behind it, fetched in
// batches from /next with their images decoded ahead, and the samples skipped in this session. Enough stays loaded
// to keep labeling for a few minutes while the server is unreachable.

import { batch, createSignal } from 'solid-js';
import { ApiError, type Api } from '../api/api.js';
import type { Later } from './lifetime.js';
import { hasImage, type ModelStatus, type Served } from '../api/types.js';

/** Prefetched samples by default: at a few seconds per label, minutes of work if the server goes away. Each holds a
 * decoded display-size image (~1600 px, a few MB of memory), so not hundreds. */
export const DEFAULT_PREFETCH = 25;
/** The API's largest `count` for next (it returns the caller's still-leased samples among the first). */
const MAX_COUNT = 50;

export interface PrefetchOptions {
  api: Api;
  projectId: string;
  /** How many samples to keep loaded ahead of the one in view (DEFAULT_PREFETCH if not given). */
  prefetch?: number;
  later: Later;
  disposed: () => boolean;
  /** Labels still in the save queue: their samples stay leased to me. */
  unsaved: () => number;
  offline: () => boolean;
  setOffline: (away: boolean) => void;
  setLoadError: (message: string | undefined) => void;
  /** The server answered after being away: send the labels kept in the browser now. */
  retrySaves: () => void;
  /** A new sample came into view (or none is left); called inside the same batch. */
  onAdvance: () => void;
}

export const idOf = (s: Served) => s.sample.sampleId;

export function createPrefetchQueue(options: PrefetchOptions) {
  const { api, projectId, later, disposed } = options;
  const target = Math.max(1, Math.min(MAX_COUNT - 10, Math.round(options.prefetch ?? DEFAULT_PREFETCH)));
  /** Below this many prefetched samples, fetch more (in batches, not one request per label). */
  const lowWater = Math.max(1, Math.floor(target / 2));

  const [current, setCurrent] = createSignal<Served>();
  const [buffer, setBuffer] = createSignal<Served[]>([]);
  const [model, setModel] = createSignal<ModelStatus>();
  const [serverDone, setServerDone] = createSignal(false);
  const [skippedCount, setSkippedCount] = createSignal(0);
  /** Samples skipped in this session: not shown again while anything else is there to label. */
  const skipped = new Set<string>();
  /** Skipped samples the server could not be told about (still leased to me, so /next keeps returning them). */
  const skippedHeld = new Set<string>();
  /** Samples labeled in this session or before it (history): never shown again as new. */
  const handled = new Set<string>();
  const preloaded = new Map<string, HTMLImageElement>();
  let fetching = false;
  let emptyPolls = 0;

  async function fill(): Promise<void> {
    if (fetching || disposed() || serverDone()) return;
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
      const leased = buffer().length + skippedHeld.size + options.unsaved() + (current() ? 1 : 0);
      // `target` ahead of the one in view, so one more while nothing is in view yet.
      const response = await api.next(projectId, Math.min(MAX_COUNT, leased + target + (current() ? 0 : 1)));
      if (disposed()) return;
      if (options.offline()) {
        // Back: send the labels kept in the browser now rather than after their backoff.
        options.setOffline(false);
        options.retrySaves();
      }
      const known = new Set([...handled, ...buffer().map(idOf), ...(current() ? [idOf(current()!)] : [])]);
      // A sample whose image record is missing cannot be shown; the server reports it on the image.
      const offered = response.samples.filter(hasImage).filter((s) => !known.has(idOf(s)));
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
      if (emptyPolls > 0) later(() => fill(), Math.min(15_000, 500 * 2 ** (emptyPolls - 1)));
      // Nothing left for now: other labelers' leases expire and uploads arrive, so look again now and then.
      if (response.done && !current()) later(() => current() || checkAgain(), 15_000);
    } catch (err) {
      const away = err instanceof ApiError && err.retryable;
      if (away) {
        // The server is unreachable: the offline banner says so (and that labels are kept); keep trying by itself.
        options.setOffline(true);
        later(() => fill(), 3000);
      } else if (err instanceof ApiError && err.status === 404) {
        // Project gone or never there: no retry loop, the view shows "not found".
        options.setLoadError(`Could not load the next image: ${err.message}`);
      } else {
        // Prefetch failures are retried; say so only if there is nothing to show.
        if (!current()) options.setLoadError(`Could not load the next image: ${(err as Error).message}`);
        later(() => fill(), 3000);
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
      options.onAdvance();
      if (head) options.setLoadError(undefined);
    });
    if (fetchMore) void fill();
  }

  /** Skips the sample in view: handed back to the server, shown again once nothing else is left. */
  function skip(): void {
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

  /** "Check again" once the queue looked empty (other labelers' leases expire, uploads arrive). */
  function checkAgain(): void {
    setServerDone(false);
    skipped.clear();
    skippedHeld.clear();
    setSkippedCount(0);
    void fill();
  }

  /** Brings `served` (an undone label's sample) back into view, the one in view going back to the front. */
  function putBack(served: Served): void {
    batch(() => {
      const c = current();
      if (c) setBuffer((b) => [c, ...b]);
      setCurrent(served);
    });
  }

  /** Applies `update` to every loaded sample (newer server copies, fresh image URLs). */
  function update(fn: (s: Served) => Served): void {
    batch(() => {
      setCurrent((c) => (c ? fn(c) : c));
      setBuffer((b) => b.map(fn));
    });
  }

  return {
    current,
    buffer,
    model,
    serverDone,
    skippedCount,
    target,
    handled,
    fill,
    advance,
    skip,
    checkAgain,
    putBack,
    update,
  };
}
