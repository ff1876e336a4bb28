// Owner: every image of the project as thumbnails, filtered by ingest status, loaded page by page as the owner
// scrolls and rendered through the virtual grid so very large projects scroll smoothly.

import { createSignal, onMount, Show } from 'solid-js';
import { ProjectNav } from '../components/ProjectNav.js';
import { VirtualGrid } from '../components/VirtualGrid.js';
import { useApp } from '../context.js';
import type { ImageStatus, ImageSummary } from '../types.js';

type Filter = 'all' | ImageStatus;

export function GalleryView(props: { projectId: string }) {
  const app = useApp();
  const [filter, setFilter] = createSignal<Filter>('all');
  const [images, setImages] = createSignal<ImageSummary[]>([]);
  const [cursor, setCursor] = createSignal<string>();
  const [finished, setFinished] = createSignal(false);
  const [unavailable, setUnavailable] = createSignal(false);
  const [error, setError] = createSignal<string>();
  let loading = false;
  let generation = 0;

  async function loadMore() {
    if (loading || finished()) return;
    loading = true;
    const mine = generation;
    try {
      const f = filter();
      const page = await app.api.images(props.projectId, {
        status: f === 'all' ? undefined : f,
        cursor: cursor(),
        limit: 200,
      });
      if (mine !== generation) return;
      if (!page) {
        setUnavailable(true);
        setFinished(true);
        return;
      }
      setImages((list) => [...list, ...page.images]);
      setCursor(page.cursor);
      setFinished(!page.cursor);
      setError(undefined);
    } catch (err) {
      if (mine === generation) setError((err as Error).message);
    } finally {
      loading = false;
    }
  }

  function choose(f: Filter) {
    generation++;
    loading = false;
    setFilter(f);
    setImages([]);
    setCursor(undefined);
    setFinished(false);
    void loadMore();
  }

  onMount(() => void loadMore());

  const filters: { value: Filter; text: string }[] = [
    { value: 'all', text: 'All' },
    { value: 'ready', text: 'Ready' },
    { value: 'pending', text: 'Processing' },
    { value: 'failed', text: 'Failed' },
  ];

  return (
    <main class="page gallery" data-testid="gallery-view">
      <ProjectNav projectId={props.projectId} current="gallery" />
      <div class="section-head">
        <h1>Gallery</h1>
        <div class="segmented" role="radiogroup" aria-label="Show">
          {filters.map((f) => (
            <button
              type="button"
              role="radio"
              aria-checked={filter() === f.value}
              onClick={() => choose(f.value)}
            >
              {f.text}
            </button>
          ))}
        </div>
      </div>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()} <button type="button" class="link" onClick={() => void loadMore()}>Try again</button>
        </p>
      </Show>
      <Show
        when={!unavailable()}
        fallback={<p class="muted">The image list is not available on this server yet.</p>}
      >
        <p class="muted" aria-live="polite">
          {images().length} image{images().length === 1 ? '' : 's'}
          {finished() ? '' : ' (more load as you scroll)'}
        </p>
        <VirtualGrid items={images()} rowHeight={168} minColumnWidth={150} label="Images" onNearEnd={() => void loadMore()}>
          {(img) => (
            <figure class={`thumb ${img.status}`} title={img.reason ?? img.key}>
              <Show when={img.thumbUrl} fallback={<div class="thumb-missing">{img.status}</div>}>
                <img src={img.thumbUrl} alt={img.key} loading="lazy" decoding="async" />
              </Show>
              <figcaption>
                <span class="file-name">{img.key.split('/').pop()}</span>
                <Show when={img.status !== 'ready'}>
                  <span class={`badge ${img.status === 'failed' ? 'bad' : ''}`}>{img.status}</span>
                </Show>
              </figcaption>
            </figure>
          )}
        </VirtualGrid>
      </Show>
    </main>
  );
}
