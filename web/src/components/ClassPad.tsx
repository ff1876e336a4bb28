// One button per class, with its key. Tapping a class labels the image (single-label) or toggles the class
// (multi-label); the small level button next to it cycles that class's confidence, like Shift + its digit.

import { createSignal, For, Show } from 'solid-js';
import { classColour } from '../boxes/classColors.js';
import { shortcutFor } from '../labeling/keyboard.js';
import { percent } from '../labeling/labels.js';

export interface ClassPadProps {
  classes: string[];
  /** Confidences set in the draft (not saved yet). */
  draft: number[];
  /** Confidences of the label shown for this sample (saved or queued), when walking back through history. */
  shown?: number[];
  multi: boolean;
  /** The confidence level buttons (not in box review, where a class goes to a box). */
  levels?: boolean;
  onLabel: (classIndex: number) => void;
  onCycle: (classIndex: number) => void;
  /** Receives the class search field (shown when there are more than SEARCH_FROM classes), so / can focus it. */
  searchRef?: (el: HTMLInputElement) => void;
}

/** A search field above the classes from this many classes on (digits reach only the first ten without Alt). */
export const SEARCH_FROM = 10;

/** The indexes of the classes whose name contains `query` (any case), in order. */
export function matchClasses(classes: string[], query: string): number[] {
  const q = query.trim().toLowerCase();
  return classes.flatMap((name, i) => (!q || name.toLowerCase().includes(q) ? [i] : []));
}

// Keep focus where it was on mouse/touch presses, so the next key press still goes to the labeling keys
// instead of re-activating the clicked button; keyboard focus (Tab) is unaffected.
const keepFocus = (e: MouseEvent) => e.preventDefault();

export function ClassPad(props: ClassPadProps) {
  const [query, setQuery] = createSignal('');
  const [hit, setHit] = createSignal(0);
  const searchable = () => props.classes.length >= SEARCH_FROM;
  const matches = () => matchClasses(props.classes, query());
  const highlighted = () => (query() ? matches()[Math.min(hit(), matches().length - 1)] : undefined);

  function onSearchKey(e: KeyboardEvent & { currentTarget: HTMLInputElement }) {
    const n = matches().length;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (n > 0) setHit((h) => (Math.min(h, n - 1) + (e.key === 'ArrowDown' ? 1 : n - 1)) % n);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      const chosen = highlighted() ?? (n === 1 ? matches()[0] : undefined);
      if (chosen === undefined) return;
      finish(e.currentTarget);
      props.onLabel(chosen);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      finish(e.currentTarget);
    }
  }
  /** Clears the search and hands the keys back to the labeling shortcuts. */
  function finish(input: HTMLInputElement) {
    setQuery('');
    setHit(0);
    input.blur();
  }

  return (
    <div class="class-pad" role="group" aria-label="Classes" data-testid="class-pad">
      <Show when={searchable()}>
        <div class="class-search">
          <input
            type="search"
            ref={(el) => props.searchRef?.(el)}
            data-testid="class-search"
            aria-label="Find a class"
            aria-keyshortcuts="/"
            placeholder="Find a class  /"
            autocomplete="off"
            value={query()}
            onInput={(e) => {
              setQuery(e.currentTarget.value);
              setHit(0);
            }}
            onKeyDown={onSearchKey}
          />
          <Show when={query()}>
            <span class="muted class-search-count" role="status">
              {matches().length} of {props.classes.length}
              {matches().length > 0 ? ' · Enter labels the highlighted one' : ''}
            </span>
          </Show>
        </div>
      </Show>
      <For each={props.classes}>
        {(name, i) => {
          const key = () => shortcutFor(i());
          const level = () => props.draft[i()] ?? 0;
          const shown = () => props.shown?.[i()] ?? 0;
          return (
            <div
              class="class-row"
              classList={{ drafted: level() > 0, shown: shown() > 0, 'search-hit': highlighted() === i() }}
              hidden={searchable() && !!query() && !matches().includes(i())}
            >
              <button
                type="button"
                class="class-button"
                data-testid={`class-${i()}`}
                aria-keyshortcuts={key()}
                aria-pressed={props.multi ? level() > 0 : undefined}
                onMouseDown={keepFocus}
                onClick={() => props.onLabel(i())}
              >
                <Show when={key()}>
                  <kbd>{key()}</kbd>
                </Show>
                <span class="swatch" style={{ background: classColour(i()) }} aria-hidden="true" />
                <span class="class-name">{name}</span>
                <Show when={shown() > 0}>
                  <span class="saved-mark" title="Current label">
                    {shown() < 1 ? percent(shown()) : '✓'}
                  </span>
                </Show>
              </button>
              <Show when={props.levels !== false}>
                <button
                  type="button"
                  class="level-button"
                  data-testid={`level-${i()}`}
                  aria-label={`Confidence for ${name}: ${percent(level())}. Change`}
                  title="Confidence level (Shift + key)"
                  onMouseDown={keepFocus}
                  onClick={() => props.onCycle(i())}
                >
                  {level() > 0 ? percent(level()) : '±'}
                </button>
              </Show>
            </div>
          );
        }}
      </For>
    </div>
  );
}
