// One button per class, with its key. Tapping a class labels the image (single-label) or toggles the class
// (multi-label); the small level button next to it cycles that class's confidence, like Shift + its digit.

import { For, Show } from 'solid-js';
import { classColour } from '../classColors.js';
import { shortcutFor } from '../keyboard.js';
import { percent } from '../labels.js';

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
}

// Keep focus where it was on mouse/touch presses, so the next key press still goes to the labeling keys
// instead of re-activating the clicked button; keyboard focus (Tab) is unaffected.
const keepFocus = (e: MouseEvent) => e.preventDefault();

export function ClassPad(props: ClassPadProps) {
  return (
    <div class="class-pad" role="group" aria-label="Classes" data-testid="class-pad">
      <For each={props.classes}>
        {(name, i) => {
          const key = () => shortcutFor(i());
          const level = () => props.draft[i()] ?? 0;
          const shown = () => props.shown?.[i()] ?? 0;
          return (
            <div class="class-row" classList={{ drafted: level() > 0, shown: shown() > 0 }}>
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
