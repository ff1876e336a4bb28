// A scrolling grid that renders only the visible rows (see virtual.ts). Fixed row height; the number of
// columns follows the container width.

import { createSignal, For, onCleanup, onMount, type JSX } from 'solid-js';
import { visibleRange } from '../shared/virtual.js';

export function VirtualGrid<T>(props: {
  items: T[];
  rowHeight: number;
  minColumnWidth: number;
  label: string;
  children: (item: T, index: number) => JSX.Element;
  /** Called when the labeler scrolls near the end (load the next page). */
  onNearEnd?: () => void;
}) {
  let scroller: HTMLDivElement | undefined;
  const [scrollTop, setScrollTop] = createSignal(0);
  const [size, setSize] = createSignal({ width: 800, height: 600 });

  onMount(() => {
    const measure = () => scroller && setSize({ width: scroller.clientWidth || 800, height: scroller.clientHeight || 600 });
    measure();
    if (typeof ResizeObserver !== 'undefined' && scroller) {
      const ro = new ResizeObserver(measure);
      ro.observe(scroller);
      onCleanup(() => ro.disconnect());
    }
  });

  const columns = () => Math.max(1, Math.floor(size().width / props.minColumnWidth));
  const range = () =>
    visibleRange({
      scrollTop: scrollTop(),
      viewportHeight: size().height,
      rowHeight: props.rowHeight,
      columns: columns(),
      count: props.items.length,
    });
  // Slicing keeps item identity, so scrolling only mounts the rows that came into view.
  const visible = () => props.items.slice(range().start, range().end);

  function onScroll() {
    if (!scroller) return;
    setScrollTop(scroller.scrollTop);
    if (scroller.scrollTop + scroller.clientHeight > range().totalHeight - props.rowHeight * 3) props.onNearEnd?.();
  }

  return (
    <div class="virtual-grid" ref={scroller} onScroll={onScroll} role="list" aria-label={props.label} data-testid="virtual-grid">
      <div
        style={{
          'padding-top': `${range().padTop}px`,
          'padding-bottom': `${range().padBottom}px`,
          display: 'grid',
          'grid-template-columns': `repeat(${columns()}, 1fr)`,
          'grid-auto-rows': `${props.rowHeight}px`,
        }}
      >
        <For each={visible()}>
          {(item, i) => (
            <div role="listitem" class="virtual-cell">
              {props.children(item, range().start + i())}
            </div>
          )}
        </For>
      </div>
    </div>
  );
}
