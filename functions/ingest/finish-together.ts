// Images ingested side by side finish their analyses one at a time (they queue for the same inference threads), so
// each would write alone: its own embedding shard, its own batch of records, its own count mark and apply, and, when
// its place in the queue goes to the next upload, that one's pending record gets a count mark of its own too. With
// detection on, images finish about one per detector run apart, further than the grouped writes' windows, and the
// storage calls (each costing CPU in the SDK and in the emulators, on the same cores as inference) outnumbered
// those of images finishing in bursts.
//
// So an analysis that finishes while others are under way waits a little for them, and the ones that finished are
// handed back together: their writes leave in the same turn of the event loop and group (one shard, one batch, one
// count update), and the uploads that take their places start together (their pending records share a mark). An
// analysis never waits when no other is under way (nothing could join it: a single upload, the last of a batch),
// waits at most `maxWaitMs`, and a group goes as soon as it has `maxGroup` members. A failed analysis is handed back
// at once (its image's failed record is a write of its own anyway).

import type { ImageAnalysis, ImageAnalyzer } from '../domain/ports.js';

export interface FinishTogetherOptions {
  /** Longest wait of a finished analysis for others (ms). Default 250: a few detector runs. */
  maxWaitMs?: number;
  /** A group goes as soon as it has this many. Default 8: half of the images in flight. */
  maxGroup?: number;
}

export const FINISH_TOGETHER_DEFAULTS = { maxWaitMs: 250, maxGroup: 8 } as const;

/** The analyzer, with analyses that finish close together handed back together (see the top). */
export function finishTogether(analyzer: ImageAnalyzer, opts: FinishTogetherOptions = {}): ImageAnalyzer {
  const maxWaitMs = opts.maxWaitMs ?? FINISH_TOGETHER_DEFAULTS.maxWaitMs;
  const maxGroup = opts.maxGroup ?? FINISH_TOGETHER_DEFAULTS.maxGroup;
  let running = 0;
  const waiting: (() => void)[] = [];
  let timer: NodeJS.Timeout | undefined;

  const release = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    for (const go of waiting.splice(0)) go();
  };

  const analyze: ImageAnalyzer['analyze'] = async (bytes, analyzeOpts) => {
    running++;
    let analysis: ImageAnalysis;
    try {
      analysis = await analyzer.analyze(bytes, analyzeOpts);
    } catch (err) {
      running--;
      if (running === 0) release(); // the waiting ones have nobody left to wait for
      throw err;
    }
    running--;
    await new Promise<void>((resolve) => {
      waiting.push(resolve);
      if (waiting.length >= maxGroup || running === 0) release();
      else timer ??= setTimeout(release, maxWaitMs);
    });
    return analysis;
  };

  return { analyze, status: () => analyzer.status() };
}
