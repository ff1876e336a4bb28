// How large the image in view is drawn. "Fit" fills the stage but never enlarges a small image above MAX_FIT_SCALE
// (a 320 px photo blown up 3x only looks soft); "1:1" shows actual pixels; +/− step through fixed zoom levels from
// whatever is on screen. The choice stays while the labeler moves from image to image.

import { createSignal } from 'solid-js';

/** The largest enlargement "fit" uses. */
export const MAX_FIT_SCALE = 2;
export const ZOOM_LEVELS = [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8] as const;

/** The scale "fit" draws an image of `natural` size at inside `box`. */
export function fitScale(natural: { width: number; height: number }, box: { width: number; height: number }): number {
  if (natural.width <= 0 || natural.height <= 0 || box.width <= 0 || box.height <= 0) return 1;
  return Math.min(box.width / natural.width, box.height / natural.height, MAX_FIT_SCALE);
}

/** The zoom level one step from `scale` (`step` 1: the next larger level, -1: the next smaller). */
export function stepZoom(scale: number, step: 1 | -1): number {
  const eps = 1e-6;
  if (step > 0) return ZOOM_LEVELS.find((l) => l > scale + eps) ?? ZOOM_LEVELS[ZOOM_LEVELS.length - 1];
  return [...ZOOM_LEVELS].reverse().find((l) => l < scale - eps) ?? ZOOM_LEVELS[0];
}

export function createImageZoom() {
  /** undefined: fit; a number: that many screen pixels per image pixel. */
  const [scale, setScale] = createSignal<number | undefined>();
  /** The view registers how to read the current fit scale (it depends on the stage's size). */
  let currentFit: () => number = () => 1;
  return {
    scale,
    measure(fn: () => number) {
      currentFit = fn;
    },
    /** Z: 1:1, or back to fit. */
    toggleActual() {
      setScale((s) => (s === 1 ? undefined : 1));
    },
    fit() {
      setScale(undefined);
    },
    zoom(step: 1 | -1) {
      setScale((s) => stepZoom(s ?? currentFit(), step));
    },
  };
}

export type ImageZoom = ReturnType<typeof createImageZoom>;
