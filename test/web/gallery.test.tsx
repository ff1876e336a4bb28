// @vitest-environment jsdom
import { fireEvent, render, screen, waitFor, within } from '@solidjs/testing-library';
import { describe, expect, it } from 'vitest';
import { createApi } from '../../web/src/api/api.js';
import { AppContext } from '../../web/src/shared/context.js';
import { GalleryView } from '../../web/src/views/GalleryView.js';
import { createFakeServer } from './fakeServer.js';

function setup() {
  const server = createFakeServer();
  const api = createApi({ fetch: server.fetch, identity: () => ({ kind: 'user', name: 'owner' }) });
  render(() => (
    <AppContext.Provider value={{ api, labeler: () => 'owner', setLabeler: () => {} }}>
      <GalleryView projectId="flowers" />
    </AppContext.Provider>
  ));
  return server;
}

describe('gallery', () => {
  it('shows thumbnails and relabels a clicked image through the save queue', async () => {
    const server = setup();
    const tile = await screen.findByTestId('tile-s2');
    expect(within(tile).getByRole('img').getAttribute('src')).toBe('http://images.test/s2.thumb.jpg');
    await waitFor(() => expect((tile as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(tile);
    const dialog = await screen.findByRole('dialog', { name: 'Relabel' });
    await waitFor(() => expect(within(dialog).getByTestId('relabel-current').textContent).toContain('not labeled'));
    // The project model's suggestion, never the ImageNet tag the sample also carries.
    expect(within(dialog).getByTestId('relabel-model').textContent).toBe(' · Model: rose 95%');
    fireEvent.keyDown(document.body, { key: '3', code: 'Digit3' });
    await waitFor(() => expect(screen.getByTestId('save-status').textContent).toContain('All labels saved'));
    expect(server.samples[1].label?.confidences).toEqual([0, 0, 1]);
    fireEvent.keyDown(document.body, { key: 'Escape' });
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('bulk-labels an image and the similar images left checked', async () => {
    const server = setup();
    const tile = await screen.findByTestId('tile-s1');
    await waitFor(() => expect((tile as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(tile);
    const dialog = await screen.findByRole('dialog', { name: 'Relabel' });
    fireEvent.click(await within(dialog).findByTestId('find-similar'));
    const list = await within(dialog).findByRole('list', { name: 'Similar images' });
    const boxes = within(list).getAllByRole('checkbox') as HTMLInputElement[];
    expect(boxes.map((b) => b.checked)).toEqual([false, false, false]); // nothing bulk-labeled by default
    fireEvent.click(within(dialog).getByTestId('select-all'));
    fireEvent.click(boxes[1]); // leave s3 out
    fireEvent.click(within(dialog).getByTestId('relabel-class-1'));
    await waitFor(() => expect(screen.getByTestId('save-status').textContent).toContain('All labels saved'));
    expect(server.samples.map((s) => s.label?.confidences ?? null).slice(0, 5)).toEqual([
      [0, 1, 0],
      [0, 1, 0],
      null,
      [0, 1, 0],
      null,
    ]);
  });

  it('lists the samples the model thinks are mislabeled', async () => {
    const server = setup();
    server.samples[0].label = { confidences: [0, 0, 1], ambiguous: false, labelerId: 'ann', at: 'now' };
    await screen.findByTestId('tile-s1');
    fireEvent.click(screen.getByRole('radio', { name: 'Likely mislabeled' }));
    await waitFor(() => expect(screen.getByTestId('tile-s1').textContent).toContain('labeled tulip (model: 10%) · model says daisy 90%'));
    expect(screen.queryByTestId('tile-s2')).toBeNull();
  });
});
