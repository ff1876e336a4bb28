// What a valid label is for a project. Used by the annotate use case; the edge only checks JSON shape.

import { badRequest } from './errors.js';
import type { BoxLabel, Project } from './model.js';

export interface LabelInput {
  /** One confidence per class, or... */
  confidences?: number[];
  /** ...a shorthand: confidence 1 on this class and 0 elsewhere. */
  classIndex?: number;
  ambiguous?: boolean;
  boxes?: BoxLabel[];
}

export interface ValidLabel {
  confidences: number[];
  ambiguous: boolean;
  boxes?: BoxLabel[];
}

const EPS = 1e-9;

export function normalizeLabel(project: Project, input: LabelInput): ValidLabel {
  const n = project.classes.length;
  let confidences: number[];
  if (input.classIndex !== undefined) {
    if (input.confidences) throw badRequest('give either classIndex or confidences, not both', { field: 'classIndex' });
    if (!Number.isInteger(input.classIndex) || input.classIndex < 0 || input.classIndex >= n) {
      throw badRequest(`classIndex ${input.classIndex} is out of range: this project has ${n} classes (0..${n - 1})`, {
        field: 'classIndex',
      });
    }
    confidences = Array.from({ length: n }, (_, i) => (i === input.classIndex ? 1 : 0));
  } else {
    confidences = input.confidences ?? Array(n).fill(0);
  }
  if (confidences.length !== n) {
    throw badRequest(`confidences must have one value per class (${n}), got ${confidences.length}`, {
      field: 'confidences',
    });
  }
  confidences.forEach((c, i) => {
    if (!project.confidenceLevels.some((l) => Math.abs(l - c) < EPS)) {
      throw badRequest(
        `confidence ${c} for "${project.classes[i]}" is not one of the project's levels (${project.confidenceLevels.join(', ')})`,
        { field: 'confidences' },
      );
    }
  });
  const sum = confidences.reduce((a, b) => a + b, 0);
  if (project.taskType === 'single-label' && sum > 1 + EPS) {
    throw badRequest(`confidences sum to ${sum}; in a single-label project they may sum to at most 1`, {
      field: 'confidences',
    });
  }
  const ambiguous = input.ambiguous ?? false;
  if (ambiguous && !project.allowAmbiguous) {
    throw badRequest('this project does not offer "ambiguous"', { field: 'ambiguous' });
  }
  const boxes = input.boxes ? input.boxes.map((b) => validBox(project, b)) : undefined;
  if (project.taskType === 'box-review' && !boxes && sum === 0 && !ambiguous) {
    throw badRequest('a box-review label needs boxes (an empty list means "no objects")', { field: 'boxes' });
  }
  if (project.taskType === 'single-label' && sum === 0 && !ambiguous) {
    throw badRequest('pick a class or mark the sample ambiguous', { field: 'confidences' });
  }
  return boxes ? { confidences, ambiguous, boxes } : { confidences, ambiguous };
}

function validBox(project: Project, b: BoxLabel): BoxLabel {
  const [x1, y1, x2, y2] = b.box;
  if (!(x2 > x1 && y2 > y1)) throw badRequest('a box needs x2 > x1 and y2 > y1', { field: 'boxes' });
  if (!Number.isInteger(b.classIndex) || b.classIndex < 0 || b.classIndex >= project.classes.length) {
    throw badRequest(`box classIndex ${b.classIndex} is out of range`, { field: 'boxes' });
  }
  return { box: [x1, y1, x2, y2], classIndex: b.classIndex, source: b.source, ...(b.score !== undefined ? { score: b.score } : {}) };
}

/** The index of the class with the highest confidence, or -1 if none. */
export function topClass(confidences: ArrayLike<number>): number {
  let best = -1;
  let bestValue = 0;
  for (let i = 0; i < confidences.length; i++) {
    if (confidences[i] > bestValue) {
      best = i;
      bestValue = confidences[i];
    }
  }
  return best;
}

/**
 * The classes a label counts toward in per-class progress: one per box of a box label (a box project's progress
 * counts boxes), else the top class of an image label (none when it has no confidence).
 */
export function countedClasses(label: { confidences: ArrayLike<number>; boxes?: { classIndex: number }[] } | undefined): number[] {
  if (!label) return [];
  if (label.boxes) return label.boxes.map((b) => b.classIndex);
  const top = topClass(label.confidences);
  return top >= 0 ? [top] : [];
}
