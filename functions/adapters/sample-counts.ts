// A project's counts (samples by how many labelers labeled them, ambiguous, per class, images per status), as pure
// deltas of one record's change. The DynamoDB adapter keeps them in one counter item moved by every write it makes
// (progress then reads one item instead of every sample head); the fake and the repair count the same way from scratch.

import { countedClasses } from '../domain/labels.js';
import type { ImageRecord, ImageStatus, Sample } from '../domain/model.js';
import type { SampleCounts } from '../domain/ports.js';

/** Counter names, flat so that DynamoDB can ADD to each (`d3`: samples with 3 labelers, `c2`: samples of class 2). */
export type CountDelta = Map<string, number>;

export const SAMPLES = 'n';
export const AMBIGUOUS = 'amb';
export const depthName = (labelers: number) => `d${labelers}`;
export const classNameOf = (classIndex: number) => `c${classIndex}`;
export const imageName = (status: ImageStatus) => `i_${status}`;

type CountedSample = Pick<Sample, 'labeledBy' | 'label'>;

function add(delta: CountDelta, name: string, by: number): void {
  const next = (delta.get(name) ?? 0) + by;
  if (next === 0) delta.delete(name);
  else delta.set(name, next);
}

function addSample(delta: CountDelta, sample: CountedSample, sign: 1 | -1): void {
  add(delta, SAMPLES, sign);
  add(delta, depthName(sample.labeledBy.length), sign);
  if (sample.label?.ambiguous) add(delta, AMBIGUOUS, sign);
  // A box label counts each of its boxes (a box project's progress is in boxes per class).
  for (const c of countedClasses(sample.label)) add(delta, classNameOf(c), sign);
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
  for (const [name, value] of counters) {
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
    ...(repairNeeded ? { repairNeeded } : {}),
  };
}

/** Counts of every record, from scratch (the fake, and the repair after a writer died). */
export function countFrom(samples: Iterable<CountedSample>, images: Iterable<Pick<ImageRecord, 'status'>>, into: CountDelta = new Map()): CountDelta {
  for (const s of samples) sampleDelta(undefined, s, into);
  for (const i of images) imageDelta(undefined, i, into);
  return into;
}
