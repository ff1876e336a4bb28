// Pure helpers about labels as the labeler builds them: the draft of per-class confidences, the level cycle,
// and how a saved label reads in words.

import type { LabelHead, Project, Suggestion } from '../api/types.js';

/** What the labeler has set on the sample in view but not yet saved. */
export interface Draft {
  confidences: number[];
  ambiguous: boolean;
}

export const emptyDraft = (classCount: number): Draft => ({ confidences: Array(classCount).fill(0), ambiguous: false });

export const isDraftEmpty = (d: Draft): boolean => !d.ambiguous && d.confidences.every((c) => c === 0);

const EPS = 1e-9;

/**
 * The next confidence level for one class, wrapping to the lowest. In a single-label project confidences may not
 * sum above 1, so levels that would break that are skipped.
 */
export function cycleLevel(project: Pick<Project, 'confidenceLevels' | 'taskType'>, draft: Draft, classIndex: number): Draft {
  const levels = [...project.confidenceLevels].sort((a, b) => a - b);
  if (levels.length === 0) return draft;
  const others = draft.confidences.reduce((s, c, i) => (i === classIndex ? s : s + c), 0);
  const fits = (l: number) => project.taskType !== 'single-label' || others + l <= 1 + EPS;
  const current = draft.confidences[classIndex] ?? 0;
  const higher = levels.filter((l) => l > current + EPS && fits(l));
  const next = higher.length > 0 ? higher[0] : levels[0];
  const confidences = draft.confidences.map((c, i) => (i === classIndex ? next : c));
  return { ...draft, confidences };
}

/** Multi-label: a class key switches that class between absent and the highest level. */
export function toggleClass(project: Pick<Project, 'confidenceLevels'>, draft: Draft, classIndex: number): Draft {
  const top = Math.max(...project.confidenceLevels, 1);
  const confidences = draft.confidences.map((c, i) => (i === classIndex ? (c > 0 ? 0 : top) : c));
  return { ...draft, confidences };
}

/**
 * Enter/Accept takes the model's suggestion only when its (calibrated) probability is at least this: a labeler who
 * accepts without looking closely is then wrong at most 1 time in 10. Below it, the class key costs the same one
 * press, and a suggestion that is a near coin flip would only anchor the labeler. The suggestion is still shown.
 */
export const ACCEPT_THRESHOLD = 0.9;

/**
 * The project model's best class, if the model has one for this sample. Only the model's suggestions count: tagger
 * tags (sample.tags, e.g. ImageNet classes) are never a suggestion, whatever their name.
 */
export function topSuggestion(suggestions: Suggestion[] | undefined): Suggestion | undefined {
  let best: Suggestion | undefined;
  for (const s of suggestions ?? []) if (s.classIndex >= 0 && (!best || s.probability > best.probability)) best = s;
  return best;
}

/** The model's suggestion if it is sure enough to be accepted with Enter (ACCEPT_THRESHOLD). */
export function acceptableSuggestion(suggestions: Suggestion[] | undefined): Suggestion | undefined {
  const best = topSuggestion(suggestions);
  return best && best.probability >= ACCEPT_THRESHOLD ? best : undefined;
}

/** "rose 82% · tulip 12%": the model's top classes in words (those above 5%). */
export function describeSuggestions(suggestions: Suggestion[] | undefined, max = 3): string {
  return (suggestions ?? [])
    .filter((s) => s.classIndex >= 0)
    .sort((a, b) => b.probability - a.probability)
    .filter((s, i) => i === 0 || s.probability >= 0.05)
    .slice(0, max)
    .map((s) => `${s.name} ${percent(s.probability)}`)
    .join(' · ');
}

export const percent = (p: number): string => `${Math.round(p * 100)}%`;

/** A label in words: "rose", "rose 75% · tulip 25%", "ambiguous", "rose · ambiguous", "3 boxes: 2 cell, 1 rbc". */
export function describeLabel(label: Pick<LabelHead, 'confidences' | 'ambiguous' | 'boxes'>, classes: string[]): string {
  if (label.boxes) {
    const counts = new Map<string, number>();
    for (const b of label.boxes) {
      const name = classes[b.classIndex] ?? `#${b.classIndex + 1}`;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    const n = label.boxes.length;
    const detail = [...counts].map(([name, c]) => `${c} ${name}`).join(', ');
    return `${n === 0 ? 'no boxes' : `${n} box${n === 1 ? '' : 'es'}: ${detail}`}${label.ambiguous ? ' · ambiguous' : ''}`;
  }
  const parts = label.confidences
    .map((c, i) => ({ c, name: classes[i] ?? `#${i + 1}` }))
    .filter((x) => x.c > 0)
    .sort((a, b) => b.c - a.c)
    .map((x) => (x.c >= 1 - EPS ? x.name : `${x.name} ${percent(x.c)}`));
  if (label.ambiguous) parts.push('ambiguous');
  return parts.length ? parts.join(' · ') : 'no class';
}
