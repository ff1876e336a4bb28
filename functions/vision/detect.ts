// One decoder family for YOLO-style detector heads, so a user's detector runs like the shipped YOLOX:
//   yolox   [N, 5 + C]  grid offsets (tx, ty, log tw, log th) per anchor point of the stride grids, objectness, C
//                       class probabilities (yolox.ts)
//   yolov5  [N, 5 + C]  boxes already in input pixels (cx, cy, w, h), objectness, C class probabilities
//   yolov8  [4 + C, N]  the same boxes as columns, then C class probabilities, no objectness
// (shapes per image, batch dimension removed). All three end in the same score threshold, per-class non-maximum
// suppression and mapping back to original-image pixels. A class map (set when a model is registered) renames
// classes to the project's and drops the ones it leaves out.

import type { DetectorOutput } from './manifest.js';
import type { ImageTensor } from './preprocess.js';
import { decodeYolox, nonMaxSuppression, toImageBox, type DetectOptions, type Detection } from './yolox.js';

export type { Detection, DetectOptions } from './yolox.js';

/** Model class name -> the name its boxes get (a project class); classes left out are dropped. */
export type ClassMap = Record<string, string>;

export function decodeDetections(
  output: { data: Float32Array; dims: readonly number[] },
  spec: DetectorOutput,
  labels: readonly string[],
  tensor: Pick<ImageTensor, 'side' | 'toOriginal'>,
  image: { width: number; height: number },
  opts: DetectOptions & { classMap?: ClassMap },
): Detection[] {
  let found: Detection[];
  if (spec.decode === 'yolox') {
    found = decodeYolox(output.data, spec, labels, tensor, image, { ...opts, maxDetections: Number.MAX_SAFE_INTEGER });
  } else {
    found = decodeUltralytics(output, spec, labels, tensor, image, opts);
  }
  if (opts.classMap) found = applyClassMap(found, opts.classMap);
  return found.slice(0, opts.maxDetections);
}

/** Renames detections by the class map; a class the map leaves out is dropped. Order (by score) is kept. */
export function applyClassMap(found: Detection[], classMap: ClassMap): Detection[] {
  return found.flatMap((d) => (classMap[d.name] !== undefined ? [{ ...d, name: classMap[d.name] }] : []));
}

function decodeUltralytics(
  output: { data: Float32Array; dims: readonly number[] },
  spec: Extract<DetectorOutput, { decode: 'yolov5' | 'yolov8' }>,
  labels: readonly string[],
  tensor: Pick<ImageTensor, 'side' | 'toOriginal'>,
  image: { width: number; height: number },
  opts: DetectOptions,
): Detection[] {
  const { data } = output;
  const dims = output.dims.length === 3 && output.dims[0] === 1 ? output.dims.slice(1) : output.dims;
  const lead = spec.decode === 'yolov5' ? 5 : 4;
  const values = lead + spec.classes;
  if (dims.length !== 2) throw new Error(`${spec.decode} output "${spec.name}" has shape [${dims.join(', ')}]; expected 2 dimensions per image`);
  // v5 rows are boxes ([N, 5 + C]); v8 columns are boxes ([4 + C, N]).
  const [n, perBox] = spec.decode === 'yolov5' ? [dims[0], dims[1]] : [dims[1], dims[0]];
  if (perBox !== values) {
    const expected = spec.decode === 'yolov5' ? `[N, ${values}]` : `[${values}, N]`;
    throw new Error(`${spec.decode} output "${spec.name}" has shape [${dims.join(', ')}]; expected ${expected} for ${spec.classes} classes`);
  }
  const at = spec.decode === 'yolov5' ? (box: number, k: number) => data[box * values + k] : (box: number, k: number) => data[k * n + box];
  const candidates: Detection[] = [];
  for (let b = 0; b < n; b++) {
    const objectness = spec.decode === 'yolov5' ? at(b, 4) : 1;
    if (objectness < opts.scoreThreshold) continue;
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < spec.classes; c++) {
      const s = at(b, lead + c);
      if (s > bestScore) [best, bestScore] = [c, s];
    }
    const score = objectness * bestScore;
    if (!(score >= opts.scoreThreshold)) continue;
    const cx = at(b, 0);
    const cy = at(b, 1);
    const w = at(b, 2);
    const h = at(b, 3);
    const box = toImageBox(cx, cy, w, h, tensor.toOriginal, image);
    if (!box) continue;
    candidates.push({ box, classIndex: best, name: labels[best] ?? `class ${best}`, score });
  }
  return nonMaxSuppression(candidates, opts.iouThreshold);
}
