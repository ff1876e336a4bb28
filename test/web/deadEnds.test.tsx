// @vitest-environment jsdom
// The labeling view's dead ends (issue 15), against the in-memory HTTP fake: walking back never overwrites or loses
// a saved label, Backspace undoes the label on screen, an unreachable server is said plainly (and labeling goes on
// over the prefetch), an unknown project is one clear state, and the image is never fitted above 2x.
import { fireEvent, screen, waitFor } from '@solidjs/testing-library';
import { describe, expect, it } from 'vitest';
import { fitScale, stepZoom } from '../../web/src/labeling/imageZoom.js';
import { keyToAction } from '../../web/src/labeling/keyboard.js';
import { DEFAULT_PREFETCH } from '../../web/src/labeling/session.js';
import { annotations, press, setup, shownSample } from './labelViewSetup.js';

const shift = (digit: string) => press('!', { code: `Digit${digit}`, shiftKey: true });
const allSaved = () => waitFor(() => expect(screen.getByTestId('save-status').textContent).toContain('All labels saved'));

describe('walking back through history', () => {
  it('Enter keeps the saved label instead of taking the model suggestion (no write)', async () => {
    const { server } = setup();
    await waitFor(() => expect(shownSample()).toBe('s1'));
    press('1');
    press('3'); // s2: the model is 95% sure it is a rose; the labeler says tulip
    await allSaved();
    press('ArrowLeft');
    expect(shownSample()).toBe('s2');
    expect(screen.getByTestId('accept').textContent).toContain('Keep label');
    const before = annotations(server).length;
    press('Enter');
    expect(shownSample()).toBe('s3');
    press('ArrowLeft');
    press(' ');
    expect(shownSample()).toBe('s3');
    await allSaved();
    expect(annotations(server)).toHaveLength(before);
    expect(server.samples[1].label?.confidences).toEqual([0, 0, 1]);
  });

  it('a re-label keeps the ambiguous flag, and Shift+digit starts from the saved level', async () => {
    const { server } = setup();
    await waitFor(() => expect(shownSample()).toBe('s1'));
    press('a');
    press('1'); // s1: daisy, ambiguous
    shift('3');
    shift('3');
    press('Enter'); // s2: tulip at 0.5
    await allSaved();
    expect(server.samples[1].label?.confidences).toEqual([0, 0, 0.5]);
    press('ArrowLeft');
    press('ArrowLeft');
    expect(shownSample()).toBe('s1');
    expect(screen.getByTestId('ambiguous-on')).toBeTruthy();
    press('2');
    expect(shownSample()).toBe('s2');
    shift('3');
    expect(screen.getByTestId('level-2').textContent).toBe('75%');
    press('Enter');
    await allSaved();
    expect(annotations(server).at(-2)?.body).toMatchObject({ classIndex: 1, ambiguous: true });
    expect(server.samples[0].label).toMatchObject({ confidences: [0, 1, 0], ambiguous: true });
    expect(server.samples[1].label?.confidences).toEqual([0, 0, 0.75]);
  });

  it('Esc goes back to the saved label, not to nothing', async () => {
    setup();
    await waitFor(() => expect(shownSample()).toBe('s1'));
    press('a');
    press('1');
    await allSaved();
    press('ArrowLeft');
    press('a'); // flag off in the draft
    expect(screen.queryByTestId('ambiguous-on')).toBeNull();
    press('Escape');
    expect(screen.getByTestId('ambiguous-on')).toBeTruthy();
  });

  it('Backspace undoes the label on screen, not the newest one', async () => {
    const { server } = setup();
    await waitFor(() => expect(shownSample()).toBe('s1'));
    press('1');
    press('2');
    press('3');
    await allSaved();
    press('ArrowLeft');
    press('ArrowLeft');
    press('ArrowLeft');
    expect(shownSample()).toBe('s1');
    press('Backspace');
    expect(shownSample()).toBe('s1'); // back to be labeled again
    await allSaved();
    expect(server.writes().find((w) => w.path.endsWith('/undo'))?.body).toMatchObject({ sampleId: 's1' });
    expect(server.samples[0].label).toBeUndefined();
    expect(server.samples[2].label?.confidences).toEqual([0, 0, 1]);
    // s2 and s3 are still in history, s1 is not.
    press('2');
    press('ArrowLeft');
    expect(shownSample()).toBe('s1');
    press('ArrowLeft');
    expect(shownSample()).toBe('s3');
  });
});

describe('server unreachable', () => {
  it('says so, says the labels are safe here, keeps labeling over the prefetch, and never shows a load error', async () => {
    const { server } = setup({ samples: 30 });
    await waitFor(() => expect(shownSample()).toBe('s1'));
    await waitFor(() => expect(Number(screen.getByTestId('label-view').dataset.ahead)).toBeGreaterThanOrEqual(20));
    server.failWhen(() => true);
    for (let i = 1; i <= 12; i++) {
      press('1');
      expect(shownSample()).toBe(`s${i + 1}`);
    }
    const banner = await screen.findByTestId('offline-banner');
    expect(banner.textContent).toMatch(/Can’t reach the server\. Your labels are safe in this browser \(\d+ waiting\)/);
    expect(screen.getByTestId('offline-ahead').textContent).toMatch(/loaded ahead: keep labeling/);
    expect(screen.queryByText(/Could not load the next image/)).toBeNull();
  });

  it('says what is happening once everything loaded ahead is labeled, instead of "Loading…"', async () => {
    const { server } = setup({ samples: 2 });
    await waitFor(() => expect(shownSample()).toBe('s1'));
    server.failWhen(() => true);
    press('1');
    press('2');
    expect((await screen.findByTestId('offline-empty')).textContent).toContain('Waiting for the server');
    expect(screen.getByTestId('offline-ahead').textContent).toContain('labeled every image loaded ahead');
    expect(screen.queryByText(/Loading the next image/)).toBeNull();
  });

  it('prefetches enough for minutes of work by default, and as deep as the labeler set in this browser', async () => {
    expect(DEFAULT_PREFETCH).toBeGreaterThanOrEqual(20);
    localStorage.setItem('winnow.prefetch', '4');
    try {
      const { server } = setup({ samples: 30 });
      await waitFor(() => expect(shownSample()).toBe('s1'));
      await waitFor(() => expect(screen.getByTestId('label-view').dataset.ahead).toBe('4'));
      expect(server.requests.find((r) => r.path.includes('/next'))?.path).toMatch(/count=5$/);
    } finally {
      localStorage.removeItem('winnow.prefetch');
    }
  });
});

describe('unknown project', () => {
  it('shows one "project not found" state with a way back, and nothing loading', async () => {
    setup({}, 'nope');
    const state = await screen.findByTestId('project-not-found');
    expect(state.textContent).toContain('There is no project “nope”');
    expect(screen.getByRole('link', { name: /Back to your projects/ }).getAttribute('href')).toBe('#/');
    expect(screen.queryByText(/Loading/)).toBeNull();
  });
});

describe('image size', () => {
  it('fits without enlarging above 2x, and steps zoom from what is on screen', () => {
    expect(fitScale({ width: 320, height: 240 }, { width: 960, height: 700 })).toBe(2);
    expect(fitScale({ width: 3000, height: 2000 }, { width: 960, height: 700 })).toBeCloseTo(0.32);
    expect(stepZoom(1, 1)).toBe(1.5);
    expect(stepZoom(2, -1)).toBe(1.5);
    expect(stepZoom(0.32, 1)).toBe(0.5);
    expect(keyToAction({ key: 'z' }, { classCount: 3, allowAmbiguous: true, helpOpen: false })).toEqual({ type: 'actualSize' });
    expect(keyToAction({ key: '+' }, { classCount: 3, allowAmbiguous: true, helpOpen: false })).toEqual({ type: 'zoom', step: 1 });
  });

  it('Z shows the image at 1:1 and back to fit; the buttons do the same', async () => {
    setup();
    await waitFor(() => expect(shownSample()).toBe('s1'));
    const frame = () => screen.getByTestId('sample-image');
    expect(frame().dataset.scale).toBe('fit');
    press('z');
    expect(frame().dataset.scale).toBe('1');
    press('+');
    expect(frame().dataset.scale).toBe('1.5');
    fireEvent.click(screen.getByTestId('image-fit'));
    expect(frame().dataset.scale).toBe('fit');
  });
});
