// @vitest-environment jsdom
import { fireEvent, render, screen, waitFor } from '@solidjs/testing-library';
import { describe, expect, it } from 'vitest';
import { createApi } from '../../web/src/api/api.js';
import { AppContext } from '../../web/src/shared/context.js';
import { LabelView } from '../../web/src/views/LabelView.js';
import { createFakeServer } from './fakeServer.js';

function setup() {
  const server = createFakeServer({ taskType: 'box-review', classes: ['rbc', 'wbc', 'platelet'] });
  const api = createApi({ fetch: server.fetch, identity: () => ({ kind: 'user', name: 'ann' }) });
  render(() => (
    <AppContext.Provider value={{ api, labeler: () => 'ann', setLabeler: () => {} }}>
      <LabelView projectId="flowers" />
    </AppContext.Provider>
  ));
  return server;
}

const press = (key: string) =>
  fireEvent.keyDown(document.body, { key, code: /^[0-9]$/.test(key) ? `Digit${key}` : undefined });
const shownSample = () => screen.getByTestId('box-editor').closest('section')!.querySelector('img')!.getAttribute('src');
const box = (i: number) => screen.getByTestId(`box-${i}`);
const layer = () => screen.getByTestId('box-editor').querySelector('svg')!;
/** The 640x480 image drawn 1:1 at the page origin, so client and image pixels coincide. */
const placeImage = () => {
  layer().getBoundingClientRect = () => ({ left: 0, top: 0, width: 640, height: 480, right: 640, bottom: 480, x: 0, y: 0, toJSON() {} }) as DOMRect;
};
const pointer = (target: Element, type: 'pointerDown' | 'pointerMove' | 'pointerUp', x: number, y: number) =>
  fireEvent[type](target, { clientX: x, clientY: y, pointerId: 1, bubbles: true });

describe('box review in the labeling view', () => {
  it('keeps, re-classes and saves the proposed boxes from the keyboard', async () => {
    const server = setup();
    await waitFor(() => expect(box(1)).toBeTruthy());
    expect(box(0).getAttribute('aria-label')).toBe('Box 1: rbc, pending, selected');
    expect(box(1).getAttribute('aria-label')).toContain('needs a class');
    press('y'); // keep box 1 as proposed; box 2 is selected next
    expect(box(0).dataset.status).toBe('accepted');
    expect(box(1).getAttribute('aria-label')).toContain('selected');
    press('Enter'); // box 2 has no class yet: refused, nothing sent
    expect(screen.getByTestId('notice').textContent).toContain('Box 2 needs a class');
    expect(server.writes()).toHaveLength(0);
    press('3');
    expect(box(1).getAttribute('aria-label')).toBe('Box 2: platelet, accepted, selected');
    const before = shownSample();
    press('Enter');
    await waitFor(() => expect(server.samples[0].label?.boxes).toBeDefined());
    expect(server.samples[0].label!.boxes).toEqual([
      { box: [10, 10, 110, 110], classIndex: 0, source: 'model', score: 0.9 },
      { box: [200, 50, 300, 200], classIndex: 2, source: 'model', score: 0.6 },
    ]);
    expect(shownSample()).not.toBe(before);
  });

  it('draws a new box by dragging, resizes it by a corner, rejects a proposal and saves', async () => {
    const server = setup();
    await waitFor(() => expect(box(1)).toBeTruthy());
    placeImage();
    press('2'); // box 1 becomes wbc; new boxes will be wbc too
    press('x'); // reject box 2
    expect(box(1).dataset.status).toBe('rejected');

    pointer(layer(), 'pointerDown', 400, 300);
    pointer(layer(), 'pointerMove', 450, 350);
    expect(layer().querySelector('rect.drawing')).toBeTruthy();
    pointer(layer(), 'pointerUp', 500, 420);
    expect(box(2).getAttribute('aria-label')).toBe('Box 3: wbc, accepted, selected');

    pointer(screen.getByTestId('handle-se'), 'pointerDown', 500, 420);
    pointer(layer(), 'pointerMove', 560, 460);
    pointer(layer(), 'pointerUp', 560, 460);
    const rect = box(2).querySelector('rect')!;
    expect([rect.getAttribute('x'), rect.getAttribute('y'), rect.getAttribute('width'), rect.getAttribute('height')]).toEqual(['400', '300', '160', '160']);

    fireEvent.click(screen.getByTestId('accept')); // "Save boxes" button, for mouse and touch
    await waitFor(() => expect(server.samples[0].label?.boxes).toBeDefined());
    expect(server.samples[0].label!.boxes).toEqual([
      { box: [10, 10, 110, 110], classIndex: 1, source: 'model', score: 0.9 },
      { box: [400, 300, 560, 460], classIndex: 1, source: 'labeler' },
    ]);
  });

  it('moves a box by dragging it and deletes it with Delete', async () => {
    setup();
    await waitFor(() => expect(box(1)).toBeTruthy());
    placeImage();
    pointer(box(0).querySelector('rect')!, 'pointerDown', 50, 50);
    pointer(layer(), 'pointerMove', 80, 70);
    pointer(layer(), 'pointerUp', 80, 70);
    const rect = box(0).querySelector('rect')!;
    expect([rect.getAttribute('x'), rect.getAttribute('y')]).toEqual(['40', '30']);
    expect(box(0).classList.contains('labeler')).toBe(true);
    // A moved box is the labeler's own: Delete removes it instead of marking a proposal rejected.
    fireEvent.keyDown(document.body, { key: 'Delete' });
    expect(screen.queryByTestId('box-1')).toBeNull();
    expect(box(0).getAttribute('aria-label')).toBe('Box 1: needs a class, pending, selected');
  });
});
