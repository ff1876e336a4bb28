// @vitest-environment jsdom
import { fireEvent, screen, waitFor, within } from '@solidjs/testing-library';
import { describe, expect, it } from 'vitest';
import { annotations, press, setup, shownSample } from './labelViewSetup.js';

const saveStatus = () => screen.getByTestId('save-status');

describe('labeling view', () => {
  it('shows the image, a key per class and the progress', async () => {
    setup();
    await waitFor(() => expect(shownSample()).toBe('s1'));
    const img = within(screen.getByTestId('sample-image')).getByRole('img');
    expect(img.getAttribute('src')).toBe('http://images.test/s1.jpg');
    const pad = screen.getByRole('group', { name: 'Classes' });
    expect(within(pad).getByTestId('class-0').textContent).toContain('1daisy');
    expect(within(pad).getByTestId('class-2').getAttribute('aria-keyshortcuts')).toBe('3');
    await waitFor(() => expect(screen.getByRole('progressbar', { name: 'Labeled images' }).getAttribute('aria-valuetext')).toBe('0 of 8 labeled'));
    expect(screen.getByTestId('suggestion').textContent).toContain('daisy');
  });

  it('labels with a digit, shows the next image at once and says "saved" only after the server answered', async () => {
    const { server } = setup();
    await waitFor(() => expect(shownSample()).toBe('s1'));
    server.holdWhen((r) => r.method === 'POST');
    press('2');
    // The next image is on screen before the label is acknowledged...
    expect(shownSample()).toBe('s2');
    expect(saveStatus().dataset.unsaved).toBe('1');
    expect(saveStatus().textContent).toContain('1 unsaved');
    await waitFor(() => expect(annotations(server)).toHaveLength(1));
    const write = annotations(server)[0];
    expect(write.path).toBe('/api/projects/flowers/samples/s1/annotations');
    expect(write.body).toMatchObject({ version: 1, classIndex: 1 });
    expect(write.body.requestId).toMatch(/^[0-9a-f-]{32,36}$/);
    expect(write.headers['x-winnow-user']).toBe('ann');
    // ...and only the answer turns it into "saved".
    expect(saveStatus().dataset.unsaved).toBe('1');
    server.holdWhen(undefined);
    server.release();
    await waitFor(() => expect(saveStatus().textContent).toContain('All labels saved'));
    expect(server.samples[0].label?.confidences).toEqual([0, 1, 0]);
    await waitFor(() => expect(screen.getByTestId('progress-labeled').textContent).toBe('1'));
  });

  it('keeps labeling through a network failure and resends with the same idempotency key', async () => {
    const { server } = setup();
    await waitFor(() => expect(shownSample()).toBe('s1'));
    server.failWhen((r) => r.method === 'POST');
    press('1');
    press('3');
    expect(shownSample()).toBe('s3');
    await waitFor(() => expect(saveStatus().textContent).toContain('2 unsaved · retrying'));
    expect(server.samples[0].label).toBeUndefined();

    server.failWhen(undefined);
    fireEvent.click(within(saveStatus()).getByRole('button', { name: 'Retry now' }));
    await waitFor(() => expect(saveStatus().textContent).toContain('All labels saved'));
    const writes = annotations(server);
    const s1Keys = new Set(writes.filter((w) => w.path.includes('/s1/')).map((w) => w.body.requestId));
    expect(s1Keys.size).toBe(1);
    // Order kept: every s1 attempt precedes the first s2 attempt.
    const lastS1 = writes.map((w) => w.path).lastIndexOf('/api/projects/flowers/samples/s1/annotations');
    const firstS2 = writes.findIndex((w) => w.path.includes('/s2/'));
    expect(lastS1).toBeLessThan(firstS2);
    expect(server.samples[0].label?.confidences).toEqual([1, 0, 0]);
    expect(server.samples[1].label?.confidences).toEqual([0, 0, 1]);
  });

  it('undoes the last label on the server with Backspace and shows that image again', async () => {
    const { server } = setup();
    await waitFor(() => expect(shownSample()).toBe('s1'));
    press('1');
    press('2');
    expect(shownSample()).toBe('s3');
    press('Backspace');
    expect(shownSample()).toBe('s2');
    await waitFor(() => expect(saveStatus().textContent).toContain('All labels saved'));
    const undo = server.writes().find((w) => w.path.endsWith('/undo'));
    expect(undo?.body).toMatchObject({ sampleId: 's2' });
    expect(server.samples[1].label).toBeUndefined();
    // Label it again: the write applies to the version the undo produced.
    press('3');
    await waitFor(() => expect(saveStatus().textContent).toContain('All labels saved'));
    expect(annotations(server).at(-1)?.body).toMatchObject({ version: 3, classIndex: 2 });
    expect(shownSample()).toBe('s3');
  });

  it('walks back with Left, shows the saved label, and re-labels from history', async () => {
    const { server } = setup();
    await waitFor(() => expect(shownSample()).toBe('s1'));
    press('1');
    press('2');
    await waitFor(() => expect(saveStatus().textContent).toContain('All labels saved'));
    press('ArrowLeft');
    expect(shownSample()).toBe('s2');
    expect(screen.getByTestId('saved-label').textContent).toContain('rose');
    expect(screen.getByTestId('saved-label').textContent).toContain('saved');
    press('ArrowLeft');
    expect(shownSample()).toBe('s1');
    expect(screen.getByTestId('saved-label').textContent).toContain('daisy');
    // The origin labeler got it wrong: re-label s1 as tulip.
    press('3');
    expect(shownSample()).toBe('s2'); // moves forward through history
    await waitFor(() => expect(server.samples[0].label?.confidences).toEqual([0, 0, 1]));
    expect(annotations(server).at(-1)?.body).toMatchObject({ version: 2, classIndex: 2 });
    press('ArrowRight');
    expect(shownSample()).toBe('s3'); // back at the front of the queue
  });

  it('accepts the model suggestion with Enter and skips with S', async () => {
    const { server } = setup();
    await waitFor(() => expect(shownSample()).toBe('s1'));
    press('s');
    expect(shownSample()).toBe('s2');
    press('Enter'); // s2's suggestion is "rose"
    expect(shownSample()).toBe('s3');
    await waitFor(() => expect(server.samples[1].label?.confidences).toEqual([0, 1, 0]));
    expect(server.samples[0].label).toBeUndefined();
  });

  it('sets per-class confidence levels with Shift+digit and the ambiguous flag with A, then saves with Enter', async () => {
    const { server } = setup();
    await waitFor(() => expect(shownSample()).toBe('s1'));
    press('!', { code: 'Digit1', shiftKey: true }); // daisy 0.25
    press('!', { code: 'Digit1', shiftKey: true }); // daisy 0.5
    press('@', { code: 'Digit2', shiftKey: true }); // rose 0.25
    press('a');
    expect(screen.getByTestId('level-0').textContent).toBe('50%');
    expect(screen.getByTestId('ambiguous').getAttribute('aria-pressed')).toBe('true');
    expect(shownSample()).toBe('s1');
    press('Enter');
    expect(shownSample()).toBe('s2');
    await waitFor(() => expect(server.samples[0].label).toBeDefined());
    expect(server.samples[0].label).toMatchObject({ confidences: [0.5, 0.25, 0], ambiguous: true });
  });

  it('in a multi-label project, class keys toggle classes and Enter saves them together', async () => {
    const { server } = setup({ taskType: 'multi-label' });
    await waitFor(() => expect(shownSample()).toBe('s1'));
    press('1');
    press('3');
    expect(shownSample()).toBe('s1');
    expect(screen.getByTestId('class-0').getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByTestId('class-1').getAttribute('aria-pressed')).toBe('false');
    press('Enter');
    expect(shownSample()).toBe('s2');
    await waitFor(() => expect(server.samples[0].label?.confidences).toEqual([1, 0, 1]));
  });

  it('does everything from buttons too (mouse and touch)', async () => {
    const { server } = setup();
    await waitFor(() => expect(shownSample()).toBe('s1'));
    fireEvent.click(screen.getByTestId('class-2'));
    expect(shownSample()).toBe('s2');
    fireEvent.click(screen.getByTestId('skip'));
    expect(shownSample()).toBe('s3');
    fireEvent.click(screen.getByTestId('undo'));
    expect(shownSample()).toBe('s1');
    await waitFor(() => expect(saveStatus().textContent).toContain('All labels saved'));
    expect(server.samples[0].label).toBeUndefined();
  });

  it('shows every shortcut with ? and closes with Escape', async () => {
    setup();
    await waitFor(() => expect(shownSample()).toBe('s1'));
    press('?', { shiftKey: true });
    const dialog = screen.getByRole('dialog', { name: 'Keyboard shortcuts' });
    expect(dialog.textContent).toContain('Backspace');
    press('1', { target: dialog } as KeyboardEventInit);
    expect(shownSample()).toBe('s1'); // keys do not label while the sheet is open
    press('Escape');
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it("shows the model's suggestion apart from tagger tags; Enter takes neither a tag nor an unsure suggestion", async () => {
    const { server } = setup();
    await waitFor(() => expect(shownSample()).toBe('s1'));
    // s1: the model says daisy at 60%; an ImageNet tag says "daisy" at 97%.
    expect(screen.getByTestId('suggestion').textContent).toContain('daisy 60%');
    expect(screen.getByTestId('suggestion').textContent).toContain('not sure enough to accept');
    expect(screen.getByTestId('tagger-tags').textContent).toContain('ImageNet tags (not your classes): daisy 97%');
    expect(screen.getByTestId('accept').hasAttribute('disabled')).toBe(true);
    press('Enter');
    expect(shownSample()).toBe('s1');
    expect(screen.getByTestId('notice').textContent).toMatch(/not sure enough/);
    // s2: the model is sure (95%): Accept names its class and Enter takes it.
    press('s');
    expect(shownSample()).toBe('s2');
    expect(screen.getByTestId('accept').textContent).toContain('rose');
    press('Enter');
    await waitFor(() => expect(server.samples[1].label?.confidences).toEqual([0, 1, 0]));
    expect(annotations(server).map((a) => a.path)).toEqual(['/api/projects/flowers/samples/s2/annotations']);
  });

  it('hands skipped images back to the server, and brings them back once nothing else is left', async () => {
    const { server } = setup({ samples: 3 });
    await waitFor(() => expect(shownSample()).toBe('s1'));
    press('s');
    press('s');
    press('s');
    await waitFor(() => expect(server.writes().filter((r) => r.path.endsWith('/skip')).map((r) => r.path)).toEqual([
      '/api/projects/flowers/samples/s1/skip',
      '/api/projects/flowers/samples/s2/skip',
      '/api/projects/flowers/samples/s3/skip',
    ]));
    // Skipping is "later", never "never": with nothing else left, the skipped images come back to label.
    await waitFor(() => expect(screen.queryByTestId('sample-image')?.getAttribute('data-sample-id')).toBe('s1'));
    press('1');
    await waitFor(() => expect(server.samples[0].label?.confidences).toEqual([1, 0, 0]));
  });

  it('draws the live error chart when the API provides quality, under the accuracy estimate', async () => {
    setup({ quality: true });
    await waitFor(() => expect(screen.getByTestId('error-chart')).toBeTruthy());
    expect(screen.getByTestId('accuracy-estimate').textContent).toBe('Model accuracy ≈ 84% (95% interval 62%–95%, checked against 12 randomly drawn labels)');
    expect(screen.getByTestId('served-error').textContent).toContain('Error on the hard images served: 33%');
    expect(screen.getByTestId('accuracy-per-class').textContent).toContain('rose: 71% (36%–92%, 7 labels)');
    expect(screen.getByTestId('accuracy-per-class').textContent).not.toContain('tulip');
    const chart = screen.getByRole('img', { name: /Live error on served images over 3 labels/ });
    expect(chart.querySelectorAll('circle')).toHaveLength(3);
    expect(chart.querySelectorAll('circle.bad')).toHaveLength(1);
  });

  it('hides the chart when the quality endpoint is not deployed (404)', async () => {
    setup();
    await waitFor(() => expect(shownSample()).toBe('s1'));
    expect(screen.queryByTestId('error-chart')).toBeNull();
  });

  it('says when nothing is left to label', async () => {
    setup({ samples: 1 });
    await waitFor(() => expect(shownSample()).toBe('s1'));
    press('1');
    await waitFor(() => expect(screen.getByTestId('empty').textContent).toContain('Nothing left to label'));
  });
});
