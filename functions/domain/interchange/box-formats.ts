// How each interchange format writes a box, converted to and from Winnow's [x1, y1, x2, y2] (upright-image pixels,
// x2/y2 exclusive edges) in exactly one place, shared by the exporters and the importers so a round trip cannot
// drift by a pixel.
//
// Pascal VOC: corners as pixel edges, xmin/ymin the top-left edge and xmax/ymax the bottom-right edge, whole pixels
// (xmin = round(x1) ... ymax = round(y2)), read back as they are: within 0.5 px of the original. This is what
// labelImg, CVAT and Roboflow write and read, and what BCCD's own COCO file assumes of its VOC XML (its
// `504,337,504,337` is a zero-size box), so a set's VOC and COCO files import to the same boxes. (The old devkit's
// 1-based inclusive reading would put every box one pixel off against those tools.)
// COCO: bbox = [x, y, width, height], x/y the top-left edge, in pixels.
// YOLO: class cx cy w h, each a fraction of the image width (cx, w) or height (cy, h).
// Origin CSV (`filename,bbox,annotation,feat_idx`): bbox = `top_row-left_col-bottom_row-right_col` in pixels.

import type { Box } from '../model.js';

export interface VocBndBox {
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
}

export const boxFromVoc = (b: VocBndBox): Box => [b.xmin, b.ymin, b.xmax, b.ymax];

export function boxToVoc([x1, y1, x2, y2]: Box): VocBndBox {
  const xmin = Math.round(x1);
  const ymin = Math.round(y1);
  // A box thinner than a pixel keeps one pixel rather than becoming empty.
  return { xmin, ymin, xmax: Math.max(Math.round(x2), xmin + 1), ymax: Math.max(Math.round(y2), ymin + 1) };
}

export const boxFromCoco = ([x, y, w, h]: readonly number[]): Box => [x, y, x + w, y + h];
export const boxToCoco = ([x1, y1, x2, y2]: Box): [number, number, number, number] => [x1, y1, x2 - x1, y2 - y1];

/** YOLO's normalised centre form -> pixels of a `width` x `height` image. */
export function boxFromYolo([cx, cy, w, h]: readonly number[], width: number, height: number): Box {
  return [(cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height];
}

export function boxToYolo([x1, y1, x2, y2]: Box, width: number, height: number): [number, number, number, number] {
  return [(x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (x2 - x1) / width, (y2 - y1) / height];
}

const ORIGIN_BBOX = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/;

/** `top-left-bottom-right` -> [left, top, right, bottom]; undefined when the text is not four numbers. */
export function boxFromOrigin(text: string): Box | undefined {
  const m = ORIGIN_BBOX.exec(text.trim());
  if (!m) return undefined;
  const [top, left, bottom, right] = m.slice(1).map(Number);
  return [left, top, right, bottom];
}

/** [x1, y1, x2, y2] -> `top-left-bottom-right`, whole pixels (the origin tool reads whole numbers only). */
export function boxToOrigin([x1, y1, x2, y2]: Box): string {
  return [y1, x1, y2, x2].map((v) => Math.round(v)).join('-');
}
