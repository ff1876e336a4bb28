// A labeler's counters and recent writes, as pure updates. Both the fake and the DynamoDB adapter apply exactly these,
// so idempotency by requestId, the bound on `recent` and undo behave the same everywhere.

import { RECENT_LIMIT, type Labeler, type LabelerEntry } from '../domain/model.js';

/** A recent entry as stored: it keeps the UTC day it was counted on, so an undo decrements that same day. */
export interface TalliedEntry extends LabelerEntry {
  day: string;
}

export interface LabelerTally extends Omit<Labeler, 'recent'> {
  recent: TalliedEntry[];
}

export function emptyTally(projectId: string, labelerId: string): LabelerTally {
  return { projectId, labelerId, total: 0, perDay: {}, recent: [] };
}

/** UTC day of an ISO time (`YYYY-MM-DD`). */
export function utcDay(at: string): string {
  const t = Date.parse(at);
  return Number.isNaN(t) ? at.slice(0, 10) : new Date(t).toISOString().slice(0, 10);
}

/** The tally after one more label, or undefined when this requestId is already counted (a retried write). */
export function tallyLabel(tally: LabelerTally, entry: LabelerEntry, at: string): LabelerTally | undefined {
  if (tally.recent.some((e) => e.requestId === entry.requestId)) return undefined;
  const day = utcDay(at);
  const recent = [...tally.recent, { sampleId: entry.sampleId, version: entry.version, requestId: entry.requestId, day }];
  return {
    ...tally,
    total: tally.total + 1,
    perDay: { ...tally.perDay, [day]: (tally.perDay[day] ?? 0) + 1 },
    // Oldest entries fall off: undo only reaches back RECENT_LIMIT labels.
    recent: recent.slice(Math.max(0, recent.length - RECENT_LIMIT)),
    lastAt: at,
  };
}

/** The tally with that label taken back, or undefined when the requestId is not (or no longer) in `recent`. */
export function tallyUndo(tally: LabelerTally, entry: LabelerEntry): LabelerTally | undefined {
  const undone = tally.recent.find((e) => e.requestId === entry.requestId);
  if (!undone) return undefined;
  const perDay = { ...tally.perDay };
  const left = (perDay[undone.day] ?? 0) - 1;
  if (left > 0) perDay[undone.day] = left;
  else delete perDay[undone.day];
  return {
    ...tally,
    total: Math.max(0, tally.total - 1),
    perDay,
    recent: tally.recent.filter((e) => e !== undone),
  };
}

export function toLabeler(tally: LabelerTally): Labeler {
  const labeler: Labeler = {
    projectId: tally.projectId,
    labelerId: tally.labelerId,
    total: tally.total,
    perDay: { ...tally.perDay },
    recent: tally.recent.map((e) => ({ sampleId: e.sampleId, version: e.version, requestId: e.requestId })),
  };
  if (tally.lastAt !== undefined) labeler.lastAt = tally.lastAt;
  return labeler;
}
