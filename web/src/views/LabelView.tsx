// The labeling view: the image large, classes with their keys, the model's suggestion, history walk, progress.
// Keys arrive through the one shared listener and the pure key map; clicks call the same session actions.

import { createSignal, onCleanup, onMount, Show } from 'solid-js';
import { createBoxMode } from '../boxes/boxMode.js';
import { BoxEditor } from '../components/BoxEditor.js';
import { BoxList } from '../components/BoxList.js';
import { ClassPad } from '../components/ClassPad.js';
import { Actions, BoxActions } from '../components/LabelActions.js';
import { Caption, EmptyState } from '../components/LabelCaption.js';
import { ErrorChart } from '../components/ErrorChart.js';
import { HistoryStrip } from '../components/HistoryStrip.js';
import { SessionSummary } from '../components/SessionSummary.js';
import { ProgressPanel } from '../components/ProgressPanel.js';
import { ProjectNotFound } from '../components/ProjectNotFound.js';
import { SampleImage } from '../components/SampleImage.js';
import { SaveIndicator } from '../components/SaveIndicator.js';
import { ShortcutHelp } from '../components/ShortcutHelp.js';
import { useApp } from '../shared/context.js';
import { keyToAction, onKey, type Action } from '../labeling/keyboard.js';
import { createImageZoom, type ImageZoom } from '../labeling/imageZoom.js';
import { hrefFor } from '../shared/router.js';
import { createLabelSession, type LabelSession } from '../labeling/session.js';

export function LabelView(props: { projectId: string }) {
  const app = useApp();
  const session = createLabelSession({ api: app.api, projectId: props.projectId, labeler: app.labeler(), prefetch: prefetchSetting() });
  const [helpOpen, setHelpOpen] = createSignal(false);
  const boxes = createBoxMode(session);
  const zoom = createImageZoom();
  let classSearch: HTMLInputElement | undefined;

  function perform(action: Action): void {
    if (boxes.perform(action)) return;
    switch (action.type) {
      case 'label':
        return session.label(action.classIndex);
      case 'cycleConfidence':
        return session.cycleConfidence(action.classIndex);
      case 'toggleAmbiguous':
        return session.toggleAmbiguous();
      case 'accept':
        return session.accept();
      case 'undo':
        return session.undo();
      case 'back':
        return session.back();
      case 'forward':
        return session.forward();
      case 'skip':
        return session.skip();
      case 'zoom':
        return zoom.zoom(action.step);
      case 'actualSize':
        return zoom.toggleActual();
      case 'help':
        setHelpOpen((o) => !o);
        return;
      case 'findClass':
        classSearch?.focus();
        return;
      case 'escape':
        if (helpOpen()) setHelpOpen(false);
        else session.clearDraft();
        return;
    }
  }

  onMount(() => {
    const off = onKey((event) => {
      const p = session.project();
      const action = keyToAction(event, {
        classCount: p?.classes.length ?? 0,
        allowAmbiguous: p?.allowAmbiguous ?? false,
        helpOpen: helpOpen(),
        boxes: boxes.active(),
        boxSelected: boxes.selected(),
        classSearch: !!classSearch?.isConnected,
      });
      if (!action) return false;
      perform(action);
      return true;
    });
    onCleanup(off);
    void session.start();
  });
  onCleanup(() => session.dispose());

  return (
    <Show when={!session.notFound()} fallback={<ProjectNotFound projectId={props.projectId} />}>
    <div class="label-view" data-testid="label-view" data-ahead={session.buffer().length} data-offline={session.offline() ? 'true' : undefined}>
      <header class="topbar">
        <a href={hrefFor({ name: 'home' })} class="back-link">
          ← Projects
        </a>
        <h1>{session.project()?.name ?? props.projectId}</h1>
        <SaveIndicator
          unsaved={session.unsaved()}
          failed={session.failed()}
          retrying={session.queue().items.some((i) => i.attempts > 0)}
          onRetry={session.retryNow}
          onDismiss={session.dismissFailed}
        />
        <span class="who" title="Labeling as">
          {app.labeler()}
        </span>
        <button
          type="button"
          class="ghost"
          aria-label="Keyboard shortcuts"
          aria-keyshortcuts="H ?"
          data-testid="open-shortcuts"
          onClick={() => setHelpOpen(true)}
        >
          <span class="hide-narrow">Shortcuts</span> <kbd>?</kbd>
        </button>
      </header>

      <Show when={session.offline()}>
        <OfflineBanner session={session} />
      </Show>
      <main class="stage">
        <section class="viewer" aria-label="Image to label">
          <Show when={session.loadError()}>
            <p class="error" role="alert">
              {session.loadError()}
            </p>
          </Show>
          <Show when={session.viewed()} fallback={<EmptyState session={session} />}>
            {(served) => (
              <>
                <Show
                  when={boxes.active()}
                  fallback={
                    <>
                      <SampleImage
                        served={served()}
                        label={`Image ${served().image.key}`}
                        scale={zoom.scale()}
                        measure={zoom.measure}
                        onError={() => void session.refreshImage(served().sample.sampleId)}
                      />
                      <ImageTools zoom={zoom} />
                    </>
                  }
                >
                  <BoxEditor
                    served={served()}
                    review={boxes.review()}
                    classes={session.project()?.classes ?? []}
                    zoom={boxes.zoom()}
                    onChange={boxes.setReview}
                    onCentre={boxes.registerCentre}
                    onImageError={() => void session.refreshImage(served().sample.sampleId)}
                  />
                </Show>
                <Caption session={session} boxes={boxes.active()} />
                <HistoryStrip session={session} />
              </>
            )}
          </Show>
        </section>

        <aside class="panel">
          <Show when={session.project()}>
            {(p) => (
              <>
                <ClassPad
                  classes={p().classes}
                  draft={session.inHistory() && !session.draftChanged() ? [] : session.draft().confidences}
                  shown={session.inHistory() && !boxes.active() ? shownConfidences(session) : undefined}
                  multi={p().taskType === 'multi-label'}
                  levels={!boxes.active()}
                  onLabel={(i) => (boxes.active() ? boxes.perform({ type: 'boxClass', classIndex: i }) : session.label(i))}
                  onCycle={session.cycleConfidence}
                  searchRef={(el) => (classSearch = el)}
                />
                <Show when={boxes.active()}>
                  <BoxActions boxes={boxes} />
                  <BoxList boxes={boxes} classes={p().classes} />
                </Show>
                <Actions session={session} onSave={boxes.active() ? boxes.save : undefined} />
              </>
            )}
          </Show>
          <ProgressPanel progress={session.progress()} boxes={session.project()?.taskType === 'box-review'} />
          <SessionSummary labeledAt={session.labeledAt()} />
          <Show when={session.quality()}>{(q) => <ErrorChart quality={q()} />}</Show>
        </aside>
      </main>

      <p class="notice" role="status" aria-live="polite" data-testid="notice">
        {session.notice()}
      </p>
      <Show when={helpOpen()}>
        <ShortcutHelp onClose={() => setHelpOpen(false)} boxes={session.project()?.taskType === 'box-review'} />
      </Show>
    </div>
    </Show>
  );
}

function shownConfidences(session: LabelSession): number[] | undefined {
  const served = session.viewed();
  return served ? session.shownLabel(served).label?.confidences : undefined;
}

/** The server cannot be reached: say so, say the labels are safe here, and how long the labeler can go on. */
function OfflineBanner(props: { session: LabelSession }) {
  const s = props.session;
  const ahead = () => s.buffer().length + (s.current() ? 1 : 0);
  return (
    <div class="offline-banner" role="alert" data-testid="offline-banner">
      <strong>Can’t reach the server.</strong>{' '}
      <span>
        Your labels are safe in this browser
        {s.unsaved() > 0 ? ` (${s.unsaved()} waiting)` : ''} and are sent as soon as the server is back; this page
        keeps trying by itself.{' '}
      </span>
      <span data-testid="offline-ahead">
        {ahead() > 0
          ? `${ahead()} image${ahead() === 1 ? '' : 's'} loaded ahead: keep labeling.`
          : 'You have labeled every image loaded ahead; new ones appear when the server is back.'}
      </span>
    </div>
  );
}

/** Fit / 1:1 / zoom for the image, by mouse and touch (Z, + and − by keyboard). */
function ImageTools(props: { zoom: ImageZoom }) {
  const z = props.zoom;
  const keepFocus = (e: MouseEvent) => e.preventDefault();
  return (
    <div class="image-tools" role="group" aria-label="Image size">
      <button type="button" data-testid="image-fit" aria-pressed={z.scale() === undefined} onMouseDown={keepFocus} onClick={() => z.fit()} title="Fit to the screen (never enlarged above 2×)">
        Fit
      </button>
      <button type="button" data-testid="image-actual" aria-pressed={z.scale() === 1} aria-keyshortcuts="Z" onMouseDown={keepFocus} onClick={() => z.toggleActual()} title="Actual pixels (Z)">
        1:1
      </button>
      <button type="button" aria-label="Zoom out" aria-keyshortcuts="-" onMouseDown={keepFocus} onClick={() => z.zoom(-1)}>
        −
      </button>
      <button type="button" aria-label="Zoom in" aria-keyshortcuts="+" onMouseDown={keepFocus} onClick={() => z.zoom(1)}>
        +
      </button>
    </div>
  );
}

/** How many images to keep loaded ahead: `localStorage["winnow.prefetch"]` if set, fewer on small-memory devices. */
function prefetchSetting(): number | undefined {
  const set = Number(globalThis.localStorage?.getItem('winnow.prefetch'));
  if (Number.isFinite(set) && set > 0) return set;
  const memory = (globalThis.navigator as { deviceMemory?: number } | undefined)?.deviceMemory;
  return memory !== undefined && memory < 4 ? 12 : undefined;
}
