// Owner: every image of the project as thumbnails, filtered by ingest status or "likely mislabeled", loaded page
// by page as the owner scrolls and rendered through the virtual grid so very large projects scroll smoothly.
// Clicking an image opens it for relabeling, alone or with its most similar images.

import { createResource, createSignal, onCleanup, onMount, Show } from 'solid-js';
import { ProjectNav } from '../components/ProjectNav.js';
import { ProjectNotFound } from '../components/ProjectNotFound.js';
import { isMissingThing } from '../api.js';
import { RelabelDialog } from '../components/RelabelDialog.js';
import { SaveIndicator } from '../components/SaveIndicator.js';
import { VirtualGrid } from '../components/VirtualGrid.js';
import { useApp } from '../context.js';
import { AutolabelPanel } from '../components/AutolabelPanel.js';
import { followDeletion, progressText } from '../components/Deletion.js';
import { percent } from '../labels.js';
import { sharedSaveRunner } from '../saving.js';
import type { ImageStatus } from '../types.js';

type Filter = 'all' | ImageStatus | 'mislabeled';

/** What a tile shows, whichever list it came from. */
interface Tile {
  id: string;
  name: string;
  thumbUrl?: string;
  status: ImageStatus;
  note?: string;
  /** The sample to relabel when the tile is clicked (ready images only). */
  sampleId?: string;
}

export function GalleryView(props: { projectId: string }) {
  const app = useApp();
  const [notFound, setNotFound] = createSignal(false);
  const [project] = createResource(() =>
    app.api.getProject(props.projectId).catch((err) => {
      if (!isMissingThing(err)) throw err;
      setNotFound(true);
      return undefined;
    }),
  );
  const saving = sharedSaveRunner(app.api, props.projectId, app.labeler());
  const [queue, setQueue] = createSignal(saving.runner.state());
  onCleanup(saving.onChange(setQueue));

  const [filter, setFilter] = createSignal<Filter>('all');
  const [tiles, setTiles] = createSignal<Tile[]>([]);
  const [cursor, setCursor] = createSignal<string>();
  const [finished, setFinished] = createSignal(false);
  const [unavailable, setUnavailable] = createSignal<string>();
  const [error, setError] = createSignal<string>();
  const [open, setOpen] = createSignal<string>();
  // Owners delete a selection of images, or every failed one (functions/api/routes/deletions.ts).
  const [selecting, setSelecting] = createSignal(false);
  const [selected, setSelected] = createSignal<ReadonlySet<string>>(new Set());
  const [deleting, setDeleting] = createSignal<string>();
  const toggle = (id: string) =>
    setSelected((s) => {
      const next = new Set(s);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  async function deleteImages(target: { imageIds: string[] } | { filter: { status: string } }, what: string) {
    if (!confirm(`Delete ${what} with their labels, copies and embeddings? This cannot be undone.`)) return;
    try {
      const started = await app.api.deleteImages(props.projectId, target);
      await followDeletion(app.api.deletion, started, (job) => setDeleting(progressText(job)));
      setSelected(new Set<string>());
      setSelecting(false);
      choose(filter());
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setDeleting(undefined);
    }
  }
  let loading = false;
  let generation = 0;

  async function fetchPage(f: Filter): Promise<{ tiles: Tile[]; cursor?: string } | undefined> {
    if (f === 'mislabeled') {
      const items = await app.api.mislabeled(props.projectId);
      return (
        items && {
          tiles: items.map((i) => ({
            id: i.sample.sampleId,
            name: i.image.key.split('/').pop() ?? i.image.key,
            thumbUrl: i.image.thumbUrl,
            status: 'ready' as const,
            // The reason, from predictions of a model that never saw this label: how likely it finds the given class,
            // and the class it believes instead.
            note: `labeled ${i.given.class} (model: ${percent(i.given.probability)}) · model says ${i.predicted.class} ${percent(i.predicted.probability)}`,
            sampleId: i.sample.sampleId,
          })),
        }
      );
    }
    const page = await app.api.images(props.projectId, { status: f === 'all' ? undefined : f, cursor: cursor(), limit: 200 });
    return (
      page && {
        cursor: page.cursor,
        tiles: page.images.map((img) => ({
          id: img.imageId,
          name: img.key.split('/').pop() ?? img.key,
          thumbUrl: img.thumbUrl,
          status: img.status,
          note: img.status === 'failed' ? img.reason : undefined,
          // The whole-image sample has the image's id (see functions/domain/ingest.ts).
          sampleId: img.status === 'ready' ? img.imageId : undefined,
        })),
      }
    );
  }

  async function loadMore() {
    if (loading || finished()) return;
    loading = true;
    const mine = generation;
    try {
      const page = await fetchPage(filter());
      if (mine !== generation) return;
      if (!page) {
        setUnavailable(filter() === 'mislabeled' ? 'Mislabel review is not available on this server yet.' : 'The image list is not available on this server yet.');
        setFinished(true);
        return;
      }
      setTiles((list) => [...list, ...page.tiles]);
      setCursor(page.cursor);
      setFinished(!page.cursor);
      setError(undefined);
      // A status filter can leave a page short or empty: fill the first screens without waiting for a scroll
      // that an empty grid can never produce.
      if (page.cursor && tiles().length < 100) setTimeout(() => void loadMore(), 0);
    } catch (err) {
      if (isMissingThing(err)) setNotFound(true);
      else if (mine === generation) setError((err as Error).message);
    } finally {
      if (mine === generation) loading = false;
    }
  }

  function choose(f: Filter) {
    generation++;
    loading = false;
    setFilter(f);
    setTiles([]);
    setCursor(undefined);
    setFinished(false);
    setUnavailable(undefined);
    void loadMore();
  }

  onMount(() => void loadMore());

  const filters: { value: Filter; text: string }[] = [
    { value: 'all', text: 'All' },
    { value: 'ready', text: 'Ready' },
    { value: 'pending', text: 'Processing' },
    { value: 'failed', text: 'Failed' },
    { value: 'mislabeled', text: 'Likely mislabeled' },
  ];

  return (
    <Show when={!notFound()} fallback={<ProjectNotFound projectId={props.projectId} />}>
    <main class="page gallery" data-testid="gallery-view">
      <ProjectNav projectId={props.projectId} current="gallery" />
      <div class="section-head">
        <h1>Gallery</h1>
        <SaveIndicator
          unsaved={queue().items.length}
          failed={queue().failed}
          retrying={queue().items.some((i) => i.attempts > 0)}
          onRetry={() => saving.runner.retryNow()}
          onDismiss={(id) => saving.runner.dismiss(id)}
        />
      </div>
      {/* Once the project is known: for an unknown one the page is "project not found", nothing else. */}
      <Show when={project()}>
        <AutolabelPanel api={app.api} projectId={props.projectId} />
      </Show>
      <div class="segmented" role="radiogroup" aria-label="Show">
        {filters.map((f) => (
          <button type="button" role="radio" aria-checked={filter() === f.value} onClick={() => choose(f.value)}>
            {f.text}
          </button>
        ))}
      </div>
      <div class="row">
        <Show when={filter() !== 'mislabeled'}>
          <button type="button" aria-pressed={selecting()} data-testid="select-to-delete" onClick={() => { setSelecting(!selecting()); setSelected(new Set<string>()); }}>
            {selecting() ? 'Cancel selection' : 'Select to delete'}
          </button>
        </Show>
        <Show when={selecting() && selected().size > 0}>
          <button type="button" class="danger" disabled={!!deleting()} data-testid="delete-selected"
            onClick={() => void deleteImages({ imageIds: [...selected()] }, `${selected().size} image${selected().size === 1 ? '' : 's'}`)}>
            Delete {selected().size} selected
          </button>
        </Show>
        <Show when={filter() === 'failed' && tiles().length > 0 && !selecting()}>
          <button type="button" class="danger" disabled={!!deleting()} data-testid="delete-failed"
            onClick={() => void deleteImages({ filter: { status: 'failed' } }, 'every failed image')}>
            Delete all failed images
          </button>
        </Show>
        <Show when={deleting()}>
          <span role="status">{deleting()}</span>
        </Show>
      </div>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}{' '}
          <button type="button" class="link" onClick={() => void loadMore()}>
            Try again
          </button>
        </p>
      </Show>
      <Show when={!unavailable()} fallback={<p class="muted">{unavailable()}</p>}>
        <p class="muted" aria-live="polite">
          {tiles().length} image{tiles().length === 1 ? '' : 's'}
          {finished() ? '' : ' (more load as you scroll)'} · click an image to relabel it
        </p>
        <VirtualGrid items={tiles()} rowHeight={176} minColumnWidth={150} label="Images" onNearEnd={() => void loadMore()}>
          {(tile) => (
            <button
              type="button"
              class={`thumb ${tile.status}${selecting() && selected().has(tile.id) ? ' selected' : ''}`}
              title={tile.note ?? tile.name}
              disabled={selecting() ? filter() === 'mislabeled' : !tile.sampleId || !project()}
              aria-pressed={selecting() ? selected().has(tile.id) : undefined}
              data-testid={`tile-${tile.id}`}
              onClick={() => (selecting() ? toggle(tile.id) : setOpen(tile.sampleId))}
            >
              <Show when={tile.thumbUrl && tile.status === 'ready'} fallback={<span class="thumb-missing">{tile.status}</span>}>
                <img src={tile.thumbUrl} alt={tile.name} loading="lazy" decoding="async" />
              </Show>
              <span class="thumb-caption">
                <span class="file-name">{tile.note ?? tile.name}</span>
                <Show when={tile.status !== 'ready'}>
                  <span class={`badge ${tile.status === 'failed' ? 'bad' : ''}`}>{tile.status}</span>
                </Show>
              </span>
            </button>
          )}
        </VirtualGrid>
      </Show>
      <Show when={open()} keyed>
        {(sampleId) => (
          <Show when={project()}>
            {(p) => <RelabelDialog api={app.api} project={p()} sampleId={sampleId} saving={saving} onClose={() => setOpen(undefined)} />}
          </Show>
        )}
      </Show>
    </main>
    </Show>
  );
}
