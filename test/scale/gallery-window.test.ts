// The gallery's virtual grid at a million tiles: at any scroll position only the rows on screen (plus overscan) are
// rendered, and the scroll height it asks the browser for. Browsers cap an element's height (Chromium at 33,554,428
// px, Firefox at 17,895,697 px), beyond which tiles could not be scrolled to: this says where the gallery's grid
// (web/src/views/GalleryView.tsx: 176 px rows, columns of at least 150 px) stands against that cap.

import { describe, expect, it } from 'vitest';
import { visibleRange } from '../../web/src/shared/virtual.js';

const TILES = 1_000_000;
const ROW = 176;
const CHROMIUM_MAX_PX = 33_554_428;
const columnsAt = (width: number) => Math.max(1, Math.floor(width / 150));

describe('the gallery grid with 1M tiles loaded', () => {
  it('renders at most a screenful plus overscan wherever it is scrolled to, at the top, middle and end', () => {
    const columns = columnsAt(1440);
    const viewport = 900;
    const total = visibleRange({ scrollTop: 0, viewportHeight: viewport, rowHeight: ROW, columns, count: TILES }).totalHeight;
    for (const scrollTop of [0, total / 2, total - viewport]) {
      const w = visibleRange({ scrollTop, viewportHeight: viewport, rowHeight: ROW, columns, count: TILES });
      expect(w.end - w.start).toBeLessThanOrEqual((Math.ceil(viewport / ROW) + 1 + 6) * columns);
      expect(w.padTop + (Math.ceil((w.end - w.start) / columns)) * ROW + w.padBottom).toBeCloseTo(w.totalHeight, 0);
    }
    const last = visibleRange({ scrollTop: total - viewport, viewportHeight: viewport, rowHeight: ROW, columns, count: TILES });
    expect(last.end).toBe(TILES);
  });

  it('asks a desktop browser (1440 px wide) for a scroll height under Chromium\'s cap, so every tile can be reached', () => {
    const desktop = visibleRange({ scrollTop: 0, viewportHeight: 900, rowHeight: ROW, columns: columnsAt(1440), count: TILES });
    expect(desktop.totalHeight).toBeLessThan(CHROMIUM_MAX_PX);
  });
});
