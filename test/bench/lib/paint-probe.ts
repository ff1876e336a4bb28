// Runs inside the page (playwright addInitScript) before the app: times each key press to the frame in which
// the next sample's image is painted, and page start to the first sample painted.
//
// A key press is stamped with the event's own timeStamp (when the browser received the input). The app swaps
// the sample's <img> element in the same task; once that image is decoded, the frame that shows it is the next
// one: a requestAnimationFrame callback runs just before that frame is painted, and a message posted from it is
// handled right after the paint. That moment is the end of the measurement.

export interface PaintProbe {
  latencies: { ms: number; sampleId: string; preloaded: boolean }[];
  firstPaint?: number;
}

declare global {
  interface Window {
    __paintProbe: PaintProbe;
  }
}

/** Plain JavaScript (not a TS function): the bench runs under tsx, whose helpers do not exist in the page. */
export const PAINT_PROBE_SCRIPT = `(() => {
  const probe = { latencies: [], firstPaint: undefined };
  window.__paintProbe = probe;
  let pending;
  let watched;
  const shown = () => document.querySelector('[data-testid="sample-image"]');
  const afterPaint = (done) =>
    requestAnimationFrame(() => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => done(performance.now());
      channel.port2.postMessage(0);
    });
  addEventListener('keydown', (e) => {
    pending = { t0: e.timeStamp, from: shown()?.dataset.sampleId };
  }, true);
  const check = () => {
    const el = shown();
    const img = el?.querySelector('img');
    if (!el || !img || img === watched) return;
    const sampleId = el.dataset.sampleId ?? '';
    const first = probe.firstPaint === undefined && !pending;
    const press = pending && sampleId !== pending.from ? pending : undefined;
    if (!first && !press) return;
    watched = img;
    pending = undefined;
    // Prefetched and decoded: the image is available the moment the element exists.
    const preloaded = img.complete && img.naturalWidth > 0;
    const record = () =>
      afterPaint((t) => {
        if (press) probe.latencies.push({ ms: t - press.t0, sampleId, preloaded });
        else probe.firstPaint = t;
      });
    if (preloaded) record();
    else img.addEventListener('load', record, { once: true });
  };
  new MutationObserver(check).observe(document, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['data-sample-id', 'src'],
  });
})();`
