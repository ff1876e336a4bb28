// Owner: the project's samples as thumbnails that say what each is labeled (class, by a labeler or the model, who,
// how sure, ambiguous, what the model says), filtered by class, labeler, source, confidence, ambiguous, "model
// disagrees" or unlabeled, sorted, with counts beside each filter value (like a data manager); or the image files by
// ingest status, or "likely mislabeled". Loaded page by page as the owner scrolls and rendered through the virtual
// grid so very large projects scroll smoothly. Clicking a tile opens it for relabeling, alone or with its most
// similar images.

import { createResource, createSignal, For, onCleanup, onMount, Show } from 'solid-js';
import { ProjectNav } from '../components/ProjectNav.js';
import { ProjectNotFound } from '../components/ProjectNotFound.js';
import { isMissingThing, type GalleryQuery, type GalleryTile } from '../api/api.js';
import './owner.css';
import { RelabelDialog } from '../components/RelabelDialog.js';
import { SaveIndicator } from '../components/SaveIndicator.js';
import { VirtualGrid } from '../components/VirtualGrid.js';
import { useApp } from '../shared/context.js';
import { AutolabelPanel } from '../components/AutolabelPanel.js';
import { AgreementPanel, type SplitChoice } from '../components/AgreementPanel.js';
import { followDeletion, progressText } from '../components/Deletion.js';
import { askToConfirm } from '../components/ConfirmDialog.js';
import { percent } from '../labeling/labels.js';
import { sharedSaveRunner } from '../saving/saving.js';
import { hasImage, type ImageStatus } from '../api/types.js';

type Filter = 'labels' | 'all' | ImageStatus | 'mislabeled';

/** What a tile shows, whichever list it came from. */
interface Tile {
  id: string;
  /** The image it shows (what a deletion removes). */
  imageId: string;
  name: string;
  thumbUrl?: string;
  status: ImageStatus;
  note?: string;
  /** The sample to relabel when the tile is clicked (ready images only). */
  sampleId?: string;
  /** Samples from the data manager: their label and the model's view. */
  sample?: GalleryTile;
}

/** A gallery tile's caption: the label first, then who gave it and how sure; labelers who disagree, each's class. */
function labelText(t: GalleryTile, classes: readonly string[]): string {
  const split = Object.entries(t.labelers ?? {});
  if (new Set(split.map(([, c]) => c)).size > 1) return split.map(([who, c]) => `${who}: ${classes[c] ?? c}`).join(' · ');
  if (!t.label) return t.model ? `unlabeled · model: ${t.model.class} ${percent(t.model.probability)}` : 'unlabeled';
  const by = t.label.source === 'model' ? 'model' : t.label.labelerId;
  return `${t.label.class} · ${by} · ${percent(t.label.confidence)}`;
}

const SORTS: { value: NonNullable<GalleryQuery['sort']>; text: string }[] = [
  { value: 'upload', text: 'Upload order' },
  { value: 'confidence-asc', text: 'Least confident first' },
  { value: 'confidence-desc', text: 'Most confident first' },
  { value: 'recent', text: 'Recently labeled' },
];

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

  const [filter, setFilter] = createSignal<Filter>('labels');
  // The data manager's filters (labels mode); every change reloads from the first page.
  const [query, setQuery] = createSignal<GalleryQuery>({});
  // A plain signal, not a resource: a refetch must not suspend the view (the tiles and their focus stay).
  const [counts, setCounts] = createSignal<Awaited<ReturnType<typeof app.api.galleryCounts>>>();
  const [agreement, setAgreement] = createSignal<Awaited<ReturnType<typeof app.api.agreement>>>();
  const refetchCounts = () =>
    Promise.all([
      app.api.galleryCounts(props.projectId).then(setCounts, () => undefined),
      app.api.agreement(props.projectId).then(setAgreement, () => undefined),
    ]);
  /** Shows exactly the samples the agreement panel's figure counts (other filters dropped). */
  const showSplit = (choice: SplitChoice) => {
    setQuery({ split: true, ...choice });
    choose('labels');
  };
  const activeSplit = (): SplitChoice | undefined => {
    const q = query();
    if (!q.split) return undefined;
    if (q.splitA !== undefined && q.splitB !== undefined) return { splitA: q.splitA, splitB: q.splitB };
    return q.splitClass !== undefined ? { splitClass: q.splitClass } : undefined;
  };
  const setQueryField = <K extends keyof GalleryQuery>(key: K, value: GalleryQuery[K] | undefined) => {
    setQuery((q) => {
      const next = { ...q };
      if (value === undefined || value === '') delete next[key];
      else next[key] = value;
      return next;
    });
    choose('labels');
  };
  const toggleFlag = (key: 'ambiguous' | 'disagrees' | 'unlabeled' | 'split') => {
    // Labelers disagree, off: the pair or class it was narrowed to goes too.
    if (key === 'split' && query().split) setQuery(({ splitA: _a, splitB: _b, splitClass: _c, ...q }) => q);
    setQueryField(key, query()[key] ? undefined : true);
  };
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
    const ok = await askToConfirm({
      title: 'Delete images',
      message: `Delete ${what} with their labels, copies and embeddings? This cannot be undone.`,
      confirm: `Delete ${what}`,
      danger: true,
    });
    if (!ok) return;
    try {
      const started = await app.api.deleteImages(props.projectId, target);
      await followDeletion(app.api.deletion, started, (job) => setDeleting(progressText(job)));
      setSelected(new Set<string>());
      setSelecting(false);
      void refetchCounts();
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
    if (f === 'labels') {
      const page = await app.api.gallery(props.projectId, { ...query(), cursor: cursor(), limit: 200 });
      // A server without the gallery route: the plain image list.
      if (!page) return fetchPage('all');
      return {
        cursor: page.cursor,
        tiles: page.items.map((t) => ({
          id: t.sampleId,
          imageId: t.imageId,
          name: labelText(t, project()?.classes ?? []),
          thumbUrl: t.thumbUrl,
          status: 'ready' as const,
          sampleId: t.sampleId,
          sample: t,
        })),
      };
    }
    if (f === 'mislabeled') {
      const items = await app.api.mislabeled(props.projectId);
      return (
        items && {
          tiles: items.filter(hasImage).map((i) => ({
            id: i.sample.sampleId,
            imageId: i.sample.imageId,
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
          imageId: img.imageId,
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
    setRelabeled(new Map());
    loading = false;
    setFilter(f);
    setTiles([]);
    setCursor(undefined);
    setFinished(false);
    setUnavailable(undefined);
    void loadMore();
  }

  onMount(() => {
    void loadMore();
    void refetchCounts();
  });

  // Labels given in the relabel dialog, shown on their tiles in place (the tile keeps its place and its focus; the
  // list itself follows the filters at the next reload).
  const [relabeled, setRelabeled] = createSignal<ReadonlyMap<string, GalleryTile>>(new Map());
  async function showNewLabel(tile: GalleryTile) {
    const { sample } = await app.api.sample(props.projectId, tile.sampleId);
    const classes = project()?.classes ?? [];
    const l = sample.label;
    const top = l ? l.confidences.reduce((best, c, i, all) => (c > all[best] ? i : best), 0) : -1;
    const label: GalleryTile['label'] = l && {
      classIndex: top,
      class: classes[top] ?? '',
      source: l.source === 'model' ? 'model' : 'labeler',
      labelerId: l.labelerId,
      confidence: l.source === 'model' ? (l.modelConfidence ?? l.confidences[top]) : l.confidences[top],
      ambiguous: l.ambiguous,
      at: l.at,
      labeledBy: sample.labeledBy,
    };
    setRelabeled((m) => new Map(m).set(tile.sampleId, { ...tile, label, disagrees: false }));
  }

  /** After relabeling, the tile shows its new label and the counts follow, once the saves are through. */
  function closeDialog() {
    const sampleId = open();
    setOpen(undefined);
    const tile = tiles().find((t) => t.sampleId === sampleId)?.sample;
    if (!tile) return;
    const refresh = () => {
      void refetchCounts();
      void showNewLabel(relabeled().get(tile.sampleId) ?? tile).catch(() => undefined);
    };
    if (saving.runner.state().items.length === 0) return refresh();
    const off = saving.onChange((state) => {
      if (state.items.length > 0) return;
      off();
      refresh();
    });
  }

  const filters: { value: Filter; text: string }[] = [
    { value: 'labels', text: 'Labels' },
    { value: 'all', text: 'All files' },
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
      <Show when={project() && agreement()}>
        {(a) => <AgreementPanel agreement={a()} show={showSplit} active={activeSplit()} />}
      </Show>
      <div class="segmented" role="radiogroup" aria-label="Show">
        {filters.map((f) => (
          <button type="button" role="radio" aria-checked={filter() === f.value} onClick={() => choose(f.value)}>
            {f.text}
          </button>
        ))}
      </div>
      <Show when={filter() === 'labels'}>
        <FilterBar
          query={query()}
          counts={counts()}
          classes={project()?.classes ?? []}
          set={setQueryField}
          toggle={toggleFlag}
          splitCount={agreement() ? Math.round(agreement()!.samples * (1 - (agreement()!.unanimous ?? 1))) : undefined}
          clear={() => {
            setQuery({});
            choose('labels');
          }}
        />
      </Show>
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
        <p class="muted" aria-live="polite" data-testid="gallery-count">
          {tiles().length} {filter() === 'labels' ? 'sample' : 'image'}{tiles().length === 1 ? '' : 's'}
          {finished() ? '' : ' (more load as you scroll)'} · click an image to relabel it
        </p>
        <VirtualGrid items={tiles()} rowHeight={176} minColumnWidth={150} label="Images" onNearEnd={() => void loadMore()}>
          {(tile) => (
            <button
              type="button"
              class={`thumb ${tile.status}${selecting() && selected().has(tile.imageId) ? ' selected' : ''}${tile.sample?.disagrees ? ' disagrees' : ''}`}
              title={tile.sample ? labelText(relabeled().get(tile.id) ?? tile.sample, project()?.classes ?? []) : (tile.note ?? tile.name)}
              disabled={selecting() ? filter() === 'mislabeled' : !tile.sampleId || !project()}
              aria-pressed={selecting() ? selected().has(tile.imageId) : undefined}
              data-testid={`tile-${tile.id}`}
              onClick={() => (selecting() ? toggle(tile.imageId) : setOpen(tile.sampleId))}
            >
              <Show when={tile.thumbUrl && tile.status === 'ready'} fallback={<span class="thumb-missing">{tile.status}</span>}>
                <img src={tile.thumbUrl} alt={tile.name} loading="lazy" decoding="async" />
              </Show>
              <span class="thumb-caption" data-testid={`tile-label-${tile.id}`}>
                <Show when={tile.sample} fallback={<span class="file-name">{tile.note ?? tile.name}</span>}>
                  {(t) => <TileLabel tile={relabeled().get(t().sampleId) ?? t()} classes={project()?.classes ?? []} />}
                </Show>
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
            {(p) => <RelabelDialog api={app.api} project={p()} sampleId={sampleId} saving={saving} onClose={closeDialog} />}
          </Show>
        )}
      </Show>
    </main>
    </Show>
  );
}

function TileLabel(props: { tile: GalleryTile; classes: readonly string[] }) {
  const t = () => props.tile;
  // Labelers who disagree on it: each one's class.
  const split = () => {
    const entries = Object.entries(t().labelers ?? {});
    return new Set(entries.map(([, c]) => c)).size > 1 ? entries.map(([who, c]) => `${who}: ${props.classes[c] ?? c}`).join(' · ') : undefined;
  };
  return (
    <span class="tile-label">
      <Show when={t().label} fallback={<span class="muted">unlabeled</span>}>
        {(l) => (
          <>
            <strong class="tile-class">{l().class}</strong>
            <span class={`badge ${l().source === 'model' ? 'model' : ''}`}>{l().source === 'model' ? 'model' : l().labelerId}</span>
            <span class="tile-confidence">{percent(l().confidence)}</span>
            <Show when={l().ambiguous}>
              <span class="badge warn">ambiguous</span>
            </Show>
          </>
        )}
      </Show>
      <Show when={t().model && (t().disagrees || !t().label)}>
        <span class={t().disagrees ? 'tile-model disagrees' : 'tile-model'}>
          {t().disagrees ? 'model says ' : 'model: '}
          {t().model!.class} {percent(t().model!.probability)}
        </span>
      </Show>
      <Show when={split()}>
        <span class="tile-split" data-testid="tile-split">{split()}</span>
      </Show>
    </span>
  );
}

type Counts = NonNullable<Awaited<ReturnType<ReturnType<typeof useApp>['api']['galleryCounts']>>>;

/** The data manager's filters, each value with its count. */
function FilterBar(props: {
  query: GalleryQuery;
  counts: Counts | undefined;
  classes: string[];
  set: <K extends keyof GalleryQuery>(key: K, value: GalleryQuery[K] | undefined) => void;
  toggle: (key: 'ambiguous' | 'disagrees' | 'unlabeled' | 'split') => void;
  clear: () => void;
  /** Samples labelers disagree on (from the agreement figures). */
  splitCount?: number;
}) {
  const n = (x: number | undefined) => (x === undefined ? '' : ` (${x})`);
  const classCount = (name: string) => props.counts?.byClass.find((c) => c.class === name)?.count;
  const pct = (v: number | undefined) => (v === undefined ? '' : String(Math.round(v * 100)));
  const fromPct = (raw: string) => (raw.trim() === '' ? undefined : Math.min(100, Math.max(0, Number(raw))) / 100);
  const chip = (key: 'ambiguous' | 'disagrees' | 'unlabeled' | 'split', text: string, count: number | undefined) => (
    <button type="button" class="chip" aria-pressed={!!props.query[key]} data-testid={`filter-${key}`} onClick={() => props.toggle(key)}>
      {text}
      {n(count)}
    </button>
  );
  return (
    <div class="filter-bar" role="group" aria-label="Filter samples">
      <label>
        Class
        <select data-testid="filter-class" value={props.query.class ?? ''} onChange={(e) => props.set('class', e.currentTarget.value || undefined)}>
          <option value="">Any class{n(props.counts?.total)}</option>
          <For each={props.classes}>{(c) => <option value={c}>{c}{n(classCount(c))}</option>}</For>
        </select>
      </label>
      <label>
        Labeler
        <select data-testid="filter-labeler" value={props.query.labeler ?? ''} onChange={(e) => props.set('labeler', e.currentTarget.value || undefined)}>
          <option value="">Anyone</option>
          <For each={props.counts?.byLabeler ?? []}>{(l) => <option value={l.labelerId}>{l.labelerId}{n(l.count)}</option>}</For>
        </select>
      </label>
      <label>
        Source
        <select data-testid="filter-source" value={props.query.source ?? ''} onChange={(e) => props.set('source', (e.currentTarget.value || undefined) as GalleryQuery['source'])}>
          <option value="">Labelers and model</option>
          <option value="labeler">Labelers</option>
          <option value="model">Model (auto-label)</option>
        </select>
      </label>
      <fieldset class="confidence-range">
        <legend>Confidence %</legend>
        <input type="number" min="0" max="100" step="5" aria-label="Lowest confidence %" data-testid="filter-min-confidence" value={pct(props.query.minConfidence)}
          onChange={(e) => props.set('minConfidence', fromPct(e.currentTarget.value))} />
        <span aria-hidden="true">–</span>
        <input type="number" min="0" max="100" step="5" aria-label="Highest confidence %" data-testid="filter-max-confidence" value={pct(props.query.maxConfidence)}
          onChange={(e) => props.set('maxConfidence', fromPct(e.currentTarget.value))} />
      </fieldset>
      <div class="chips">
        {chip('ambiguous', 'Ambiguous', props.counts?.ambiguous)}
        {chip('disagrees', 'Model disagrees', props.counts?.disagrees)}
        {chip('unlabeled', 'Unlabeled', props.counts?.unlabeled)}
        {chip('split', 'Labelers disagree', props.splitCount)}
      </div>
      <label>
        Sort
        <select data-testid="gallery-sort" value={props.query.sort ?? 'upload'} onChange={(e) => props.set('sort', e.currentTarget.value as GalleryQuery['sort'])}>
          <For each={SORTS}>{(o) => <option value={o.value}>{o.text}</option>}</For>
        </select>
      </label>
      <Show when={Object.keys(props.query).length > 0}>
        <button type="button" class="link" onClick={() => props.clear()}>
          Clear filters
        </button>
      </Show>
    </div>
  );
}
