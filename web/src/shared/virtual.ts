// Which rows of a long grid are on screen. Only those (plus a few for smooth scrolling) are rendered, so a
// gallery of 100k images keeps a few hundred DOM nodes.

export interface GridWindow {
  /** First and one-past-last item index to render. */
  start: number;
  end: number;
  /** Space above and below the rendered rows, in px. */
  padTop: number;
  padBottom: number;
  totalHeight: number;
}

export function visibleRange(opts: {
  scrollTop: number;
  viewportHeight: number;
  rowHeight: number;
  columns: number;
  count: number;
  overscanRows?: number;
}): GridWindow {
  const columns = Math.max(1, Math.floor(opts.columns));
  const rows = Math.ceil(opts.count / columns);
  const overscan = opts.overscanRows ?? 3;
  const totalHeight = rows * opts.rowHeight;
  const firstRow = Math.max(0, Math.floor(opts.scrollTop / opts.rowHeight) - overscan);
  const lastRow = Math.min(rows, Math.ceil((opts.scrollTop + opts.viewportHeight) / opts.rowHeight) + overscan);
  const start = Math.min(opts.count, firstRow * columns);
  const end = Math.min(opts.count, Math.max(firstRow, lastRow) * columns);
  return {
    start,
    end,
    padTop: firstRow * opts.rowHeight,
    padBottom: Math.max(0, totalHeight - Math.max(firstRow, lastRow) * opts.rowHeight),
    totalHeight,
  };
}
