// Relabel one sample from the gallery, or it and the images most similar to it at once. Labels go through the
// same save queue as the labeling view (idempotency keys, retries, nothing shown as saved before the server
// answered); the keys 1..N work here too.

import { createResource, createSignal, For, onCleanup, onMount, Show } from 'solid-js';
import type { Api } from '../api/api.js';
import { classColour } from '../boxes/classColors.js';
import { keyToAction, onKey, shortcutFor } from '../labeling/keyboard.js';
import { describeLabel, describeSuggestions, percent } from '../labeling/labels.js';
import { newRequestId } from '../saving/saveQueue.js';
import type { SharedRunner } from '../saving/saving.js';
import { hasImage, type Project, type Served } from '../api/types.js';
import { Modal } from './Modal.js';

export function RelabelDialog(props: {
  api: Api;
  project: Project;
  sampleId: string;
  saving: SharedRunner;
  onClose: () => void;
}) {
  const [target] = createResource(() => props.api.sample(props.project.id, props.sampleId));
  const shown = () => {
    const t = target();
    return t && hasImage(t) ? t : undefined;
  };
  const [similar, setSimilar] = createSignal<(Served & { similarity?: number })[]>();
  const [similarMessage, setSimilarMessage] = createSignal<string>();
  const [chosen, setChosen] = createSignal(new Set<string>());
  const [done, setDone] = createSignal<string>();
  let closeButton: HTMLButtonElement | undefined;

  async function findSimilar() {
    setSimilarMessage('Looking for similar images…');
    try {
      const found = await props.api.similar(props.project.id, props.sampleId, 24);
      const items = (found?.items ?? []).filter(hasImage).filter((i) => i.sample.sampleId !== props.sampleId);
      setSimilar(items);
      // Nothing is checked until the owner looks: a bulk label should be a decision, not a default.
      setChosen(new Set<string>());
      setSimilarMessage(found ? found.message ?? (items.length ? undefined : 'No similar images found.') : 'Similarity search is not available on this server.');
    } catch (err) {
      setSimilarMessage(`Could not search: ${(err as Error).message}`);
    }
  }

  /** Queues one label per chosen sample; each applies to the version the owner saw. */
  function labelAll(classIndex: number) {
    const t = target();
    if (!t) return;
    const extra = (similar() ?? []).filter((i) => chosen().has(i.sample.sampleId)).map((i) => i.sample);
    for (const sample of [t.sample, ...extra]) {
      props.saving.runner.enqueue({
        kind: 'label',
        requestId: newRequestId(),
        projectId: props.project.id,
        sampleId: sample.sampleId,
        version: sample.version,
        label: { classIndex },
      });
    }
    const n = extra.length + 1;
    setDone(`${n} label${n === 1 ? '' : 's'} “${props.project.classes[classIndex]}” queued; the indicator shows when they are saved.`);
  }

  function toggle(sampleId: string) {
    const next = new Set(chosen());
    if (next.has(sampleId)) next.delete(sampleId);
    else next.add(sampleId);
    setChosen(next);
  }

  onMount(() => {
    const off = onKey((event) => {
      const action = keyToAction(event, { classCount: props.project.classes.length, allowAmbiguous: false, helpOpen: false });
      if (action?.type === 'label') labelAll(action.classIndex);
      else if (action?.type === 'escape') props.onClose();
      else return false;
      return true;
    });
    onCleanup(off);
  });

  const count = () => 1 + (similar() ?? []).filter((i) => chosen().has(i.sample.sampleId)).length;

  return (
    <Modal labelledBy="relabel-title" class="wide" testId="relabel" onClose={props.onClose} initialFocus={() => closeButton}>
      <div class="section-head">
        <h2 id="relabel-title">Relabel</h2>
        <button type="button" ref={closeButton} onClick={() => props.onClose()}>
          Close <kbd>Esc</kbd>
        </button>
      </div>
      <Show when={shown()} fallback={<p class="muted">{target.error ? String(target.error.message) : target() ? 'The image file is missing.' : 'Loading…'}</p>}>
        {(t) => (
          <>
            <figure class="relabel-target">
              <img src={t().image.url} alt={`Image ${t().image.key}`} />
              <figcaption data-testid="relabel-current">
                Now: {t().sample.label ? describeLabel(t().sample.label!, props.project.classes) : 'not labeled'}
                <Show when={describeSuggestions(t().sample.suggestions)}>
                  {(m) => <span class="muted" data-testid="relabel-model"> · Model: {m()}</span>}
                </Show>
              </figcaption>
            </figure>
            <div class="class-pad inline" role="group" aria-label={`Label ${count()} image${count() === 1 ? '' : 's'} as`}>
              <For each={props.project.classes}>
                {(name, i) => (
                  <button type="button" class="class-button" data-testid={`relabel-class-${i()}`} onClick={() => labelAll(i())}>
                    <Show when={shortcutFor(i())}>
                      <kbd>{shortcutFor(i())}</kbd>
                    </Show>
                    <span class="swatch" style={{ background: classColour(i()) }} aria-hidden="true" />
                    {name}
                  </button>
                )}
              </For>
            </div>
            <Show when={done()}>
              <p role="status" class="ok-text">
                {done()}
              </p>
            </Show>
            <Show when={!similar()}>
              <button type="button" data-testid="find-similar" onClick={() => void findSimilar()}>
                Similar images…
              </button>
            </Show>
            <Show when={similarMessage()}>
              <p class="muted">{similarMessage()}</p>
            </Show>
            <Show when={(similar() ?? []).length > 0}>
              <div class="section-head">
                <p>
                  Class keys label this image and the {count() - 1} checked similar image{count() === 2 ? '' : 's'}.
                </p>
                <span>
                  <button type="button" class="link" data-testid="select-all" onClick={() => setChosen(new Set((similar() ?? []).map((i) => i.sample.sampleId)))}>
                    Check all
                  </button>
                  <button type="button" class="link" onClick={() => setChosen(new Set<string>())}>
                    Check none
                  </button>
                </span>
              </div>
              <ul class="similar-grid" aria-label="Similar images">
                <For each={similar()}>
                  {(item) => (
                    <li>
                      <label class="similar-tile">
                        <input
                          type="checkbox"
                          checked={chosen().has(item.sample.sampleId)}
                          onChange={() => toggle(item.sample.sampleId)}
                        />
                        <img src={item.image.thumbUrl ?? item.image.url} alt={`Image ${item.image.key}`} loading="lazy" />
                        <span class="muted">
                          {item.similarity !== undefined ? percent(item.similarity) : ''}
                          {item.sample.label ? ` · ${describeLabel(item.sample.label, props.project.classes)}` : ''}
                        </span>
                      </label>
                    </li>
                  )}
                </For>
              </ul>
            </Show>
          </>
        )}
      </Show>
    </Modal>
  );
}
