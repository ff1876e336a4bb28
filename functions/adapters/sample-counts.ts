// A project's counts (samples by how many labelers labeled them, ambiguous, per class, images per status, agreement
// between labelers), as pure
// deltas of one record's change. The DynamoDB adapter keeps them in one counter item moved by every write it makes
// (progress then reads one item instead of every sample head); the fake and the repair count the same way from scratch.

import { classesInEffect } from '../domain/agreement.js';
import { countedClasses } from '../domain/label-validation.js';
import type { ImageRecord, ImageStatus, Sample } from '../domain/model.js';
import type { SampleCounts } from '../domain/ports.js';
import { isTallyName } from '../domain/quality-tally.js';

/** Counter names, flat so that DynamoDB can ADD to each (`d3`: samples with 3 labelers, `c2`: samples of class 2). */
export type CountDelta = Map<string, number>;

export const SAMPLES = 'n';
export const AMBIGUOUS = 'amb';
export const depthName = (labelers: number) => `d${labelers}`;
export const classNameOf = (classIndex: number) => `c${classIndex}`;
export const imageName = (status: ImageStatus) => `i_${status}`;
/** Agreement: samples with two or more labelers' classes, the unanimous ones, and per pair (shared, same class). */
export const AGREED_SAMPLES = 'g_n';
export const AGREED_UNANIMOUS = 'g_u';
/** Agreement per class: samples (two or more labelers) where some labeler chose the class, and where all did. */
export const agreedClassName = (kind: 'any' | 'all', classIndex: number) => `${kind === 'any' ? 'ga' : 'gu'}${classIndex}`;
const pairName = (kind: 'p' | 'q', a: string, b: string) => `${kind}:${JSON.stringify([a, b])}`;

type CountedSample = Pick<Sample, 'labeledBy' | 'label' | 'inEffect' | 'liveTally'>;

function add(delta: CountDelta, name: string, by: number): void {
  const next = (delta.get(name) ?? 0) + by;
  if (next === 0) delta.delete(name);
  else delta.set(name, next);
}

function addSample(delta: CountDelta, sample: CountedSample, sign: 1 | -1): void {
  add(delta, SAMPLES, sign);
  add(delta, depthName(sample.labeledBy.length), sign);
  // The quality view's sums: the head keeps its label records' (domain/quality-tally.ts), under the counters' names.
  for (const [name, by] of Object.entries(sample.liveTally ?? {})) if (isTallyName(name)) add(delta, name, sign * by);
  if (sample.label?.ambiguous) add(delta, AMBIGUOUS, sign);
  // A box label counts each of its boxes (a box project's progress is in boxes per class).
  for (const c of countedClasses(sample.label)) add(delta, classNameOf(c), sign);
  // Agreement: every pair of labelers whose classes are in effect on the sample.
  const labelers = Object.entries(classesInEffect(sample)).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  if (labelers.length < 2) return;
  add(delta, AGREED_SAMPLES, sign);
  const unanimous = labelers.every(([, k]) => k === labelers[0][1]);
  if (unanimous) add(delta, AGREED_UNANIMOUS, sign);
  for (const k of new Set(labelers.map(([, c]) => c))) add(delta, agreedClassName('any', k), sign);
  if (unanimous) add(delta, agreedClassName('all', labelers[0][1]), sign);
  for (let i = 0; i < labelers.length; i++) {
    for (let j = i + 1; j < labelers.length; j++) {
      add(delta, pairName('p', labelers[i][0], labelers[j][0]), sign);
      if (labelers[i][1] === labelers[j][1]) add(delta, pairName('q', labelers[i][0], labelers[j][0]), sign);
    }
  }
}

/** What a sample's change (undefined = absent) does to the counts; empty when nothing counted changed. */
export function sampleDelta(before: CountedSample | undefined, after: CountedSample | undefined, into: CountDelta = new Map()): CountDelta {
  if (before) addSample(into, before, -1);
  if (after) addSample(into, after, 1);
  return into;
}

/** What an image record's change (undefined = absent) does to the counts. */
export function imageDelta(before: Pick<ImageRecord, 'status'> | undefined, after: Pick<ImageRecord, 'status'> | undefined, into: CountDelta = new Map()): CountDelta {
  if (before) add(into, imageName(before.status), -1);
  if (after) add(into, imageName(after.status), 1);
  return into;
}

/** The counts as the domain sees them, from counter names to numbers (absent = 0). */
export function toSampleCounts(counters: Map<string, number>, repairNeeded = false): SampleCounts {
  const byDepth: number[] = [];
  const byClass: number[] = [];
  const pairs = new Map<string, { a: string; b: string; shared: number; same: number }>();
  const agreedByClass: { samples: number; unanimous: number }[] = [];
  const quality: Record<string, number> = {};
  for (const [name, value] of counters) {
    if (isTallyName(name)) {
      if (value !== 0) quality[name] = value;
      continue;
    }
    if (name.startsWith('p:') || name.startsWith('q:')) {
      const [a, b] = JSON.parse(name.slice(2)) as [string, string];
      const key = name.slice(2);
      const pair = pairs.get(key) ?? { a, b, shared: 0, same: 0 };
      if (name.startsWith('p:')) pair.shared = value;
      else pair.same = value;
      pairs.set(key, pair);
      continue;
    }
    const agreed = /^g([au])(\d+)$/.exec(name);
    if (agreed) {
      const k = Number(agreed[2]);
      const entry = (agreedByClass[k] ??= { samples: 0, unanimous: 0 });
      if (agreed[1] === 'a') entry.samples = value;
      else entry.unanimous = value;
      continue;
    }
    const depth = /^d(\d+)$/.exec(name);
    if (depth) byDepth[Number(depth[1])] = value;
    const cls = /^c(\d+)$/.exec(name);
    if (cls) byClass[Number(cls[1])] = value;
  }
  const dense = (xs: number[]) => Array.from(xs, (x) => x ?? 0);
  return {
    samples: counters.get(SAMPLES) ?? 0,
    byDepth: dense(byDepth),
    ambiguous: counters.get(AMBIGUOUS) ?? 0,
    byClass: dense(byClass),
    images: {
      pending: counters.get(imageName('pending')) ?? 0,
      ready: counters.get(imageName('ready')) ?? 0,
      failed: counters.get(imageName('failed')) ?? 0,
    },
    agreement: {
      samples: counters.get(AGREED_SAMPLES) ?? 0,
      unanimous: counters.get(AGREED_UNANIMOUS) ?? 0,
      pairs: [...pairs.values()],
      byClass: Array.from(agreedByClass, (x) => x ?? { samples: 0, unanimous: 0 }),
    },
    ...(Object.keys(quality).length > 0 ? { quality } : {}),
    ...(repairNeeded ? { repairNeeded } : {}),
  };
}

/** Counts of every record, from scratch (the fake, and the repair after a writer died). */
export function countFrom(samples: Iterable<CountedSample>, images: Iterable<Pick<ImageRecord, 'status'>>, into: CountDelta = new Map()): CountDelta {
  for (const s of samples) sampleDelta(undefined, s, into);
  for (const i of images) imageDelta(undefined, i, into);
  return into;
}
