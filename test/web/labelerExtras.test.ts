import { describe, expect, it } from 'vitest';
import { zoomToFit } from '../../web/src/boxes/boxMode.js';
import { classColour } from '../../web/src/boxes/classColors.js';
import { matchClasses } from '../../web/src/components/ClassPad.js';
import { formatSpent, labelsPerHour } from '../../web/src/components/SessionSummary.js';

describe('class search', () => {
  const classes = ['daisy', 'Dandelion', 'roses', 'lily'];
  it('matches any part of a name in any case, in class order; an empty query matches all', () => {
    expect(matchClasses(classes, 'd')).toEqual([0, 1]);
    expect(matchClasses(classes, ' LI ')).toEqual([1, 3]);
    expect(matchClasses(classes, '')).toEqual([0, 1, 2, 3]);
    expect(matchClasses(classes, 'tulip')).toEqual([]);
  });
});

describe('session summary', () => {
  it('gives labels per hour over at least a minute, and time spent in s, min or h', () => {
    expect(labelsPerHour(3, 5_000)).toBe(180); // three quick labels do not read as 2,160/hour
    expect(labelsPerHour(120, 30 * 60_000)).toBe(240);
    expect(formatSpent(45_000)).toBe('45 s');
    expect(formatSpent(12 * 60_000 + 5_000)).toBe('12 min');
    expect(formatSpent(65 * 60_000)).toBe('1 h 05 min');
  });
});

describe('box tools', () => {
  it('zooms to a box so it fills at most 60% of the view, never below 1x', () => {
    expect(zoomToFit(0.05, 0.05)).toBe(8);
    expect(zoomToFit(0.2, 0.1)).toBe(3);
    expect(zoomToFit(0.9, 0.9)).toBe(1);
  });

  it('gives each class a palette colour, reused after eight, and a neutral one to boxes without a class', () => {
    expect(classColour(0)).toBe('var(--class-0)');
    expect(classColour(9)).toBe('var(--class-1)');
    expect(classColour(-1)).toBe('var(--class-none)');
  });
});
