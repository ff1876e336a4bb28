// The sample's image, as large as the stage allows. A box sample shows the whole image with the box outlined,
// so the labeler sees the context around it.

import { createSignal, Show } from 'solid-js';
import type { Served } from '../types.js';

export function SampleImage(props: { served: Served; onError?: () => void; label?: string }) {
  // The API gives the image size once ingest measured it; otherwise the loaded image tells us.
  const [natural, setNatural] = createSignal({ width: 0, height: 0 });
  const width = () => props.served.image.width || natural().width || 1;
  const height = () => props.served.image.height || natural().height || 1;
  const box = () => props.served.sample.box;
  return (
    <div class="sample-image" data-testid="sample-image" data-sample-id={props.served.sample.sampleId}>
      {/* One <img> per image (keyed on the URL): while a new image loads, the stage is blank instead of still
          showing the previous sample's pixels under the new sample's label. Prefetched images are already
          decoded, so the new element paints in the next frame. */}
      <Show when={props.served.image.url} keyed>
        {(url) => (
          <img
            src={url}
            width={width()}
            height={height()}
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
