// tf_flowers_dev (../shared) embedded by the real MobileNetV2 features model, its own test split held out: the task
// the calibration tests train on, and what they read of the shown probabilities on the held-out split.

import { resolve } from 'node:path';
import { expectedCalibrationError } from '../../functions/domain/learning/calibration.js';
import { eceSamplingFloor, makeTask, type Task } from '../bench/lib/al-simulation.js';
import { loadImageDataset } from '../bench/lib/dataset.js';
import { FLOWERS, MODELS } from '../support/paths.js';

export async function flowersTask(): Promise<Task> {
  const d = await loadImageDataset(resolve(FLOWERS), resolve(MODELS));
  if (!d.split) throw new Error('tf_flowers_dev has no train/test split in labels.csv');
  return makeTask(d.vectors, d.labels, d.classes.length, d.split.map((s) => s === 'test'));
}

/** Accuracy, mean top probability, its gap to the accuracy, ECE and ECE's sampling floor on the held-out split. */
export function testSetStats(task: Task, probs: Float32Array) {
  const C = task.classes;
  let right = 0;
  let top = 0;
  for (let i = 0; i < task.testLabels.length; i++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (probs[i * C + c] > probs[i * C + best]) best = c;
    if (best === task.testLabels[i]) right++;
    top += probs[i * C + best];
  }
  const n = task.testLabels.length;
  const accuracy = right / n;
  const meanTop = top / n;
  return { accuracy, meanTop, gap: meanTop - accuracy, ece: expectedCalibrationError(probs, task.testLabels, C), floor: eceSamplingFloor(probs, C) };
}
