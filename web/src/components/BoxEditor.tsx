// Box review on the image: proposals and drawn boxes over the picture, each in its class's colour. Drag on empty
// space draws a box, drag a box to move it, drag a corner of the selected box to resize it; zoom makes the image
// larger inside a scrolling frame that keeps the selected box in view. All changes go through the pure
// transitions of boxReview.ts.

import { createEffect, createSignal, For, onMount, Show } from 'solid-js';
import {
  addBox,
  moveBox,
  normalizeBox,
  resizeBox,
  selectIndex,
  toImagePoint,
  type BoxReview,
  type Handle,
} from '../boxes/boxReview.js';
import { classColour } from '../boxes/classColors.js';
import type { Box, Served } from '../api/types.js';

type Drag =
  | { kind: 'draw'; from: [number, number]; to: [number, number] }
  | { kind: 'move'; index: number; from: [number, number]; start: BoxReview }
  | { kind: 'resize'; index: number; handle: Handle; start: BoxReview };

export function BoxEditor(props: {
  served: Served;
  review: BoxReview;
  classes: string[];
  zoom: number;
  /** `step` names a run of changes that undo as one (a drag). */
  onChange: (review: BoxReview, step?: string) => void;
  /** Receives how to find the middle of the visible part of the image, in image pixels. */
  onCentre?: (centre: () => [number, number]) => void;
  onImageError?: () => void;
}) {
  let svg: SVGSVGElement | undefined;
  let frame: HTMLDivElement | undefined;
  let drags = 0;
  const [drag, setDrag] = createSignal<Drag>();
  const [natural, setNatural] = createSignal({ width: 0, height: 0 });
  const width = () => props.served.image.width || natural().width || 1;
  const height = () => props.served.image.height || natural().height || 1;
  const unit = () => Math.max(width(), height()) / 100;

  const point = (e: PointerEvent): [number, number] => {
    const rect = svg!.getBoundingClientRect();
    return toImagePoint(e.clientX, e.clientY, rect, width(), height());
  };

  function begin(e: PointerEvent, next: Drag) {
    e.preventDefault();
    e.stopPropagation();
    svg?.setPointerCapture?.(e.pointerId);
    drags++;
    setDrag(next);
  }

  function onMove(e: PointerEvent) {
    const d = drag();
    if (!d) return;
    const p = point(e);
    if (d.kind === 'draw') setDrag({ ...d, to: p });
    else if (d.kind === 'move') props.onChange(moveBox(d.start, d.index, p[0] - d.from[0], p[1] - d.from[1], width(), height()), `drag:${drags}`);
    else props.onChange(resizeBox(d.start, d.index, d.handle, p, width(), height()), `drag:${drags}`);
  }

  /** Where box `b` is on screen, in client pixels. */
  function onScreen(b: Box) {
    const rect = svg!.getBoundingClientRect();
    const scale = Math.min(rect.width / width(), rect.height / height()) || 1;
    const left = rect.left + (rect.width - width() * scale) / 2;
    const top = rect.top + (rect.height - height() * scale) / 2;
    return { left: left + b[0] * scale, top: top + b[1] * scale, right: left + b[2] * scale, bottom: top + b[3] * scale };
  }

  // Zoom follows the selection: after a zoom change, or when the selected box is not fully on screen, scroll the
  // frame so the box is in the middle.
  let lastZoom = props.zoom;
  createEffect(() => {
    const b = props.review.boxes[props.review.selected];
    const zoom = props.zoom;
    if (!b || !frame || !svg) return;
    const view = frame.getBoundingClientRect();
    const r = onScreen(b.box);
    const inside = r.left >= view.left && r.right <= view.right && r.top >= view.top && r.bottom <= view.bottom;
    if (inside && zoom === lastZoom) return;
    lastZoom = zoom;
    frame.scrollLeft += (r.left + r.right) / 2 - (view.left + view.width / 2);
    frame.scrollTop += (r.top + r.bottom) / 2 - (view.top + view.height / 2);
  });

  onMount(() =>
    props.onCentre?.(() => {
      const view = frame!.getBoundingClientRect();
      const rect = svg!.getBoundingClientRect();
      return toImagePoint(view.left + view.width / 2, view.top + view.height / 2, rect, width(), height());
    }),
  );

  function onUp(e: PointerEvent) {
    const d = drag();
    setDrag(undefined);
    if (d?.kind !== 'draw') return;
    const box = normalizeBox(d.from, point(e), width(), height());
    if (box) props.onChange(addBox(props.review, box));
    else props.onChange(selectIndex(props.review, -1)); // a click on empty space clears the selection
  }

  const drawing = (): Box | undefined => {
    const d = drag();
    return d?.kind === 'draw' ? normalizeBox(d.from, d.to, width(), height()) : undefined;
  };
  const name = (classIndex: number) => (classIndex >= 0 ? props.classes[classIndex] : 'needs a class');

  return (
    <div class="box-editor" data-testid="box-editor" ref={frame} data-zoom={props.zoom}>
      <div class="zoom-frame" style={{ width: `${props.zoom * 100}%`, height: `${props.zoom * 100}%` }}>
        {/* Keyed on the URL, like SampleImage: never the previous sample's pixels under new boxes. */}
        <Show when={props.served.image.url} keyed>
          {(url) => (
            <img
              src={url}
              alt={`Image ${props.served.image.key}`}
              decoding="sync"
              draggable={false}
              onLoad={(e) => setNatural({ width: e.currentTarget.naturalWidth, height: e.currentTarget.naturalHeight })}
              onError={() => props.onImageError?.()}
            />
          )}
        </Show>
        <svg
          ref={svg}
          class="box-layer"
          viewBox={`0 0 ${width()} ${height()}`}
          preserveAspectRatio="xMidYMid meet"
          role="group"
          aria-label={`${props.review.boxes.length} boxes; drag on the image to draw a new one`}
          onPointerDown={(e) => begin(e, { kind: 'draw', from: point(e), to: point(e) })}
          onPointerMove={onMove}
          onPointerUp={onUp}
          onPointerCancel={() => setDrag(undefined)}
        >
          <For each={props.review.boxes}>
            {(b, i) => (
              <g
                class={`review-box ${b.status} ${b.source}`}
                classList={{ selected: props.review.selected === i(), unnamed: b.classIndex < 0, hidden: !!b.hidden, locked: !!b.locked }}
                style={{ '--box-colour': classColour(b.classIndex) }}
                data-testid={`box-${i()}`}
                data-status={b.status}
                data-class={b.classIndex}
                role="img"
                aria-label={`Box ${i() + 1}: ${name(b.classIndex)}, ${b.status}${b.hidden ? ', hidden' : ''}${b.locked ? ', locked' : ''}${props.review.selected === i() ? ', selected' : ''}`}
              >
                <rect
                  class="frame"
                  x={b.box[0]}
                  y={b.box[1]}
                  width={b.box[2] - b.box[0]}
                  height={b.box[3] - b.box[1]}
                  vector-effect="non-scaling-stroke"
                  onPointerDown={(e) => {
                    props.onChange(selectIndex(props.review, i()));
                    if (b.locked) e.stopPropagation();
                    else begin(e, { kind: 'move', index: i(), from: point(e), start: selectIndex(props.review, i()) });
                  }}
                />
                {(() => {
                  // A tag in the class colour above the box (inside it when the box touches the top edge).
                  const text = () =>
                    `${i() + 1}. ${name(b.classIndex)}${b.score !== undefined && b.source === 'model' ? ` ${Math.round(b.score * 100)}%` : ''}${b.locked ? ' · locked' : ''}`;
                  const h = () => unit() * 2.6;
                  const y = () => (b.box[1] >= h() ? b.box[1] - h() : b.box[1]);
                  return (
                    <>
                      <rect class="tag" x={b.box[0]} y={y()} width={unit() * (1 + text().length * 1.15)} height={h()} />
                      <text x={b.box[0] + unit() * 0.5} y={y() + h() * 0.75} style={{ 'font-size': `${unit() * 2}px` }}>
                        {text()}
                      </text>
                    </>
                  );
                })()}
                <Show when={props.review.selected === i() && !b.locked}>
                  <For each={['nw', 'ne', 'sw', 'se'] as Handle[]}>
                    {(h) => (
                      <circle
                        class="handle"
                        data-testid={`handle-${h}`}
                        cx={h.includes('w') ? b.box[0] : b.box[2]}
                        cy={h.includes('n') ? b.box[1] : b.box[3]}
                        r={unit() * 1.2}
                        onPointerDown={(e) => begin(e, { kind: 'resize', index: i(), handle: h, start: props.review })}
                      />
                    )}
                  </For>
                </Show>
              </g>
            )}
          </For>
          <Show when={drawing()}>
            {(d) => <rect class="drawing" x={d()[0]} y={d()[1]} width={d()[2] - d()[0]} height={d()[3] - d()[1]} vector-effect="non-scaling-stroke" />}
          </Show>
        </svg>
      </div>
    </div>
  );
}
