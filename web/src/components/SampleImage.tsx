// The sample's image, as large as the stage allows but never enlarged above MAX_FIT_SCALE ("fit"), or at a chosen
// scale (1:1, zoom) with scrolling. A box sample shows the whole image with the box outlined, so the labeler sees
// the context around it.

import { createSignal, onMount, Show } from 'solid-js';
import { fitScale, MAX_FIT_SCALE } from '../labeling/imageZoom.js';
import type { Served } from '../api/types.js';

export function SampleImage(props: {
  served: Served;
  onError?: () => void;
  label?: string;
  /** undefined: fit (at most MAX_FIT_SCALE); a number: screen pixels per image pixel. */
  scale?: number;
  /** Receives a function that tells the scale "fit" draws at right now. */
  measure?: (fitNow: () => number) => void;
}) {
  // The API gives the image size once ingest measured it; otherwise the loaded image tells us.
  const [natural, setNatural] = createSignal({ width: 0, height: 0 });
  const width = () => props.served.image.width || natural().width || 1;
  const height = () => props.served.image.height || natural().height || 1;
  const box = () => props.served.sample.box;
  let frame: HTMLDivElement | undefined;
  onMount(() => props.measure?.(() => (frame ? fitScale({ width: width(), height: height() }, frame.getBoundingClientRect()) : 1)));
  // Fit: the element is at most MAX_FIT_SCALE times the image's size, so object-fit never enlarges beyond it.
  // Scaled: the element is exactly scale times the image's size, and the frame scrolls.
  const sized = () =>
    props.scale === undefined
      ? { 'max-width': `${width() * MAX_FIT_SCALE}px`, 'max-height': `${height() * MAX_FIT_SCALE}px` }
      : { width: `${width() * props.scale}px`, height: `${height() * props.scale}px` };
  return (
    <div
      class="sample-image"
      classList={{ scaled: props.scale !== undefined }}
      data-testid="sample-image"
      data-sample-id={props.served.sample.sampleId}
      data-scale={props.scale === undefined ? 'fit' : String(props.scale)}
      ref={frame}
    >
      {/* One <img> per image (keyed on the URL): while a new image loads, the stage is blank instead of still
          showing the previous sample's pixels under the new sample's label. Prefetched images are already
          decoded, so the new element paints in the next frame. */}
      <Show when={props.served.image.url} keyed>
        {(url) => (
          <img
            src={url}
            width={width()}
            height={height()}
            style={sized()}
            alt={props.label ?? `Image ${props.served.image.key}`}
            decoding="sync"
            draggable={false}
            onLoad={(e) => setNatural({ width: e.currentTarget.naturalWidth, height: e.currentTarget.naturalHeight })}
            onError={() => props.onError?.()}
          />
        )}
      </Show>
      <Show when={box()}>
        {(b) => (
          <svg
            class="box-overlay"
            style={sized()}
            viewBox={`0 0 ${width()} ${height()}`}
            preserveAspectRatio="xMidYMid meet"
            aria-hidden="true"
          >
            <rect
              x={b()[0]}
              y={b()[1]}
              width={b()[2] - b()[0]}
              height={b()[3] - b()[1]}
              vector-effect="non-scaling-stroke"
            />
          </svg>
        )}
      </Show>
    </div>
  );
}
