// Whether a sample already carries what an import would write, so that running an import again (or after a
// partial run) writes nothing twice. Boxes compare within the round-trip tolerance, in any order.

import type { ValidLabel } from '../../label-validation.js';
import type { BoxLabel, LabelHead } from '../../model.js';
import { sameBox } from './boxes.js';

const EPS = 1e-9;

export function sameLabel(head: LabelHead, label: ValidLabel): boolean {
  return (
    head.ambiguous === label.ambiguous &&
    head.confidences.length === label.confidences.length &&
    head.confidences.every((c, i) => Math.abs(c - label.confidences[i]) < EPS) &&
    sameBoxes(head.boxes, label.boxes, false)
  );
}

export function sameProposals(current: BoxLabel[] | undefined, next: BoxLabel[]): boolean {
  return sameBoxes(current, next, true);
}

function sameBoxes(a: BoxLabel[] | undefined, b: BoxLabel[] | undefined, withScores: boolean): boolean {
  if (!a || !b) return !a === !b;
  if (a.length !== b.length) return false;
  const left = [...b];
  return a.every((x) => {
    const at = left.findIndex(
      (y) => y.classIndex === x.classIndex && sameBox(x.box, y.box, 1e-6) && (!withScores || Math.abs((x.score ?? -1) - (y.score ?? -1)) < EPS),
    );
    if (at < 0) return false;
    left.splice(at, 1);
    return true;
  });
}
