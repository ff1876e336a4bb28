// Class colours: the Okabe-Ito palette (distinguishable with the common colour-vision deficiencies), one CSS
// custom property per slot (`--class-0` … `--class-7` in styles.css, adjusted for dark mode); classes beyond the
// eighth reuse the palette in order.

export const CLASS_COLOURS = 8;

/** The CSS colour of class `classIndex` (a neutral one for a box that has no class yet). */
export function classColour(classIndex: number): string {
  return classIndex < 0 ? 'var(--class-none)' : `var(--class-${classIndex % CLASS_COLOURS})`;
}
