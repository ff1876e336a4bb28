// The labeling view: the image large, classes with their keys, the model's suggestion, history walk, progress.
// Keys arrive through the one shared listener and the pure key map; clicks call the same session actions.

import { createSignal, onCleanup, onMount, Show } from 'solid-js';
import { createBoxMode } from '../boxMode.js';
import { acceptSelected, classifySelected, rejectSelected } from '../boxReview.js';
import { BoxEditor } from '../components/BoxEditor.js';
import { ClassPad } from '../components/ClassPad.js';
import { ErrorChart } from '../components/ErrorChart.js';
import { ProgressPanel } from '../components/ProgressPanel.js';
import { SampleImage } from '../components/SampleImage.js';
import { SaveIndicator } from '../components/SaveIndicator.js';
import { ShortcutHelp } from '../components/ShortcutHelp.js';
import { useApp } from '../context.js';
import { keyToAction, onKey, type Action } from '../keyboard.js';
import { acceptableSuggestion, describeLabel, isDraftEmpty, percent, topSuggestion } from '../labels.js';
import { hrefFor } from '../router.js';
import { createLabelSession, type LabelSession } from '../session.js';

export function LabelView(props: { projectId: string }) {
  const app = useApp();
  const session = createLabelSession({ api: app.api, projectId: props.projectId, labeler: app.labeler() });
  const [helpOpen, setHelpOpen] = createSignal(false);
  const boxes = createBoxMode(session);

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
      case 'help':
        setHelpOpen((o) => !o);
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
    <div class="label-view" data-testid="label-view">
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
                    <SampleImage
                      served={served()}
                      label={`Image ${served().image.key}`}
                      onError={() => void session.refreshImage(served().sample.sampleId)}
                    />
                  }
                >
                  <BoxEditor
                    served={served()}
                    review={boxes.review()}
                    classes={session.project()?.classes ?? []}
                    zoom={boxes.zoom()}
                    onChange={boxes.setReview}
                    onImageError={() => void session.refreshImage(served().sample.sampleId)}
                  />
                </Show>
                <Caption session={session} />
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
                  draft={session.draft().confidences}
                  shown={session.inHistory() && !boxes.active() ? shownConfidences(session) : undefined}
                  multi={p().taskType === 'multi-label'}
                  levels={!boxes.active()}
                  onLabel={(i) => (boxes.active() ? boxes.setReview((r) => classifySelected(r, i)) : session.label(i))}
                  onCycle={session.cycleConfidence}
                />
                <Show when={boxes.active()}>
                  <BoxActions boxes={boxes} />
                </Show>
                <Actions session={session} onSave={boxes.active() ? boxes.save : undefined} />
              </>
            )}
          </Show>
          <ProgressPanel progress={session.progress()} />
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
  );
}

function shownConfidences(session: LabelSession): number[] | undefined {
  const served = session.viewed();
  return served ? session.shownLabel(served).label?.confidences : undefined;
}

const keepFocus = (e: MouseEvent) => e.preventDefault();

/** Box review by mouse and touch: keep, reject, zoom. */
function BoxActions(props: { boxes: ReturnType<typeof createBoxMode> }) {
  const b = props.boxes;
  const selected = () => b.review().boxes[b.review().selected];
  return (
    <div class="actions box-actions" role="toolbar" aria-label="Box actions">
      <button type="button" data-testid="keep-box" aria-keyshortcuts="Y" onMouseDown={keepFocus} disabled={!selected() || selected()!.classIndex < 0} onClick={() => b.setReview(acceptSelected)}>
        Keep box <kbd>Y</kbd>
      </button>
      <button type="button" data-testid="reject-box" aria-keyshortcuts="X Delete" onMouseDown={keepFocus} disabled={!selected()} onClick={() => b.setReview(rejectSelected)}>
        {selected()?.source === 'labeler' ? 'Delete box' : 'Reject box'} <kbd>X</kbd>
      </button>
      <button type="button" aria-label="Zoom out" aria-keyshortcuts="-" onMouseDown={keepFocus} onClick={() => b.perform({ type: 'zoom', step: -1 })}>
        −
      </button>
      <button type="button" aria-label="Zoom in" aria-keyshortcuts="+" onMouseDown={keepFocus} onClick={() => b.perform({ type: 'zoom', step: 1 })}>
        +
      </button>
    </div>
  );
}

/** Buttons for everything the keys do, for mouse and touch. */
function Actions(props: { session: LabelSession; onSave?: () => void }) {
  const s = props.session;
  const suggestion = () => acceptableSuggestion(s.viewed()?.sample.suggestions);
  const drafted = () => !isDraftEmpty(s.draft()) || !!props.onSave;
  return (
    <div class="actions" role="toolbar" aria-label="Label actions">
      <button
        type="button"
        class="primary"
        data-testid="accept"
        aria-keyshortcuts="Enter Space"
        disabled={!s.viewed() || (!drafted() && !suggestion())}
        onMouseDown={keepFocus}
        onClick={() => (props.onSave ? props.onSave() : s.accept())}
      >
        <Show when={drafted()} fallback={<>Accept {suggestion() ? `“${suggestion()!.name}”` : 'suggestion'}</>}>
          {props.onSave ? 'Save boxes' : 'Save label'}
        </Show>{' '}
        <kbd>Enter</kbd>
      </button>
      <Show when={s.project()?.allowAmbiguous}>
        <button
          type="button"
          data-testid="ambiguous"
          aria-pressed={s.draft().ambiguous}
          aria-keyshortcuts="A"
          onMouseDown={keepFocus}
          onClick={() => s.toggleAmbiguous()}
        >
          Ambiguous <kbd>A</kbd>
        </button>
      </Show>
      <button type="button" data-testid="undo" aria-keyshortcuts="Backspace" onMouseDown={keepFocus} onClick={() => s.undo()} disabled={s.history().length === 0}>
        Undo <kbd>⌫</kbd>
      </button>
      <button type="button" data-testid="skip" aria-keyshortcuts="S" onMouseDown={keepFocus} onClick={() => s.skip()} disabled={!s.viewed()}>
        Skip <kbd>S</kbd>
      </button>
      <button
        type="button"
        data-testid="back"
        aria-label="Previous label"
        aria-keyshortcuts="ArrowLeft"
        onMouseDown={keepFocus}
        onClick={() => s.back()}
        disabled={s.history().length === 0 || s.cursor() === 0}
      >
        ← <span class="hide-narrow">Back</span>
      </button>
      <button
        type="button"
        data-testid="forward"
        aria-label="Next"
        aria-keyshortcuts="ArrowRight"
        onMouseDown={keepFocus}
        onClick={() => s.forward()}
        disabled={!s.inHistory()}
      >
        <span class="hide-narrow">Forward</span> →
      </button>
    </div>
  );
}

/** Under the image: where the labeler is, what is saved, what the model thinks. */
function Caption(props: { session: LabelSession }) {
  const s = props.session;
  const served = () => s.viewed()!;
  const classes = () => s.project()?.classes ?? [];
  const shown = () => s.shownLabel(served());
  const status = () => s.statusOf(served().sample.sampleId);
  const top = () => topSuggestion(served().sample.suggestions);
  return (
    <div class="caption" data-testid="caption">
      <Show
        when={s.inHistory()}
        fallback={
          <Show when={top()} fallback={<span class="muted">{s.model()?.message ?? 'No model suggestion yet'}</span>}>
            {(t) => (
              <span class="suggestion" data-testid="suggestion">
                Model: <strong>{t().name}</strong> {percent(t().probability)}
                <Show when={t().classIndex < 0}>
                  <span class="muted"> (not one of your classes)</span>
                </Show>
              </span>
            )}
          </Show>
        }
      >
        <span data-testid="history-position">
          Your label {s.history().length - (s.cursor() ?? 0)} back ·{' '}
        </span>
        <span data-testid="saved-label" class={`saved-label ${status() ?? 'saved'}`}>
          <Show when={shown().label} fallback={<>{shown().pending ? 'undo pending' : 'not labeled'}</>}>
            {(l) => <>{describeLabel(l(), classes())}</>}
          </Show>{' '}
          <span class="badge">{status() === undefined ? 'saved' : status() === 'failed' ? 'not saved' : 'unsaved'}</span>
        </span>
        <span class="muted"> · press a class to re-label</span>
      </Show>
      <Show when={s.draft().ambiguous}>
        <span class="badge warn" data-testid="ambiguous-on">
          ambiguous
        </span>
      </Show>
    </div>
  );
}

function EmptyState(props: { session: LabelSession }) {
  const s = props.session;
  return (
    <div class="empty" data-testid="empty">
      <Show when={!s.loading()} fallback={<p class="muted">Loading…</p>}>
        <Show when={s.serverDone()} fallback={<p class="muted">Loading the next image…</p>}>
          <p>
            <strong>Nothing left to label for you right now.</strong>
          </p>
          <p class="muted">
            <Show when={s.skippedCount() > 0} fallback={<>Other labelers may hold some images; new uploads appear here too.</>}>
              You skipped {s.skippedCount()} image{s.skippedCount() === 1 ? '' : 's'}: “Check again” brings them back.
            </Show>
          </p>
          <button type="button" onClick={() => s.checkAgain()}>
            Check again
          </button>
        </Show>
      </Show>
    </div>
  );
}
