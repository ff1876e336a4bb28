// @vitest-environment jsdom
// Owner deletions in the web app, against the real API (createApp on the in-memory fakes) instead of the view
// tests' fake server: a gallery selection is deleted with everything derived, and a project is deleted from its
// settings only once its name is typed.
import { fireEvent, render, screen, waitFor } from '@solidjs/testing-library';
import { describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { createApp } from '../../functions/api/app.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import { localAuthenticate } from '../../functions/api/auth-local.js';
import type { ImageRecord } from '../../functions/domain/model.js';
import { createProject } from '../../functions/domain/projects.js';
import { createApi } from '../../web/src/api/api.js';
import { AppContext } from '../../web/src/shared/context.js';
import { GalleryView } from '../../web/src/views/GalleryView.js';
import { EditProject } from '../../web/src/views/CreateProject.js';

async function seeded() {
  const stores = createMemoryStores();
  await createProject(stores, { id: 'flowers', name: 'My flowers', classes: ['daisy', 'rose'] }, 'owner');
  for (const n of [1, 2, 3]) {
    const image: ImageRecord = {
      projectId: 'flowers', imageId: `i${n}`, key: `uploads/flowers/${n}.jpg`, etag: 'e', bytes: 3, status: n === 3 ? 'failed' : 'ready',
      order: `o${n}`, createdAt: '2026-11-22T09:00:00.000Z', updatedAt: '2026-11-22T09:00:00.000Z',
    };
    await stores.samples.putImage(image);
    await stores.blobs.put(image.key, new Uint8Array([1]), 'image/jpeg');
    if (n !== 3) await stores.samples.putSamplesIfAbsent([{ projectId: 'flowers', sampleId: `i${n}`, imageId: `i${n}`, kind: 'image', version: 0, labeledBy: [], order: `o${n}`, queueKey: `o${n}`, createdAt: image.createdAt }]);
  }
  const app = createApp({ stores, featureVectors: shardFeatureVectors(stores.blobs, stores.clock), authenticate: localAuthenticate });
  const api = createApi({
    fetch: async (input, init) => app.request(String(input), init as RequestInit),
    identity: () => ({ kind: 'user', name: 'owner' }),
  });
  return { stores, api };
}

describe('deleting from the web app', () => {
  it('deletes the images selected in the gallery', async () => {
    const { stores, api } = await seeded();
    render(() => (
      <AppContext.Provider value={{ api, labeler: () => 'owner', setLabeler: () => {} }}>
        <GalleryView projectId="flowers" />
      </AppContext.Provider>
    ));
    // The image files (the default view lists labeled samples; a failed image has none).
    fireEvent.click(await screen.findByRole('radio', { name: 'All files' }));
    await screen.findByTestId('tile-i3');
    fireEvent.click(screen.getByTestId('select-to-delete'));
    fireEvent.click(screen.getByTestId('tile-i1'));
    fireEvent.click(screen.getByTestId('tile-i3'));
    expect(screen.getByTestId('tile-i1').getAttribute('aria-pressed')).toBe('true');
    fireEvent.click(screen.getByTestId('delete-selected'));
    // The app's own dialog names the action; nothing is deleted before the owner says yes.
    fireEvent.click(await screen.findByRole('button', { name: 'Delete 2 images' }));
    await waitFor(() => expect(screen.queryByTestId('delete-selected')).toBeNull(), { timeout: 10_000 });
    // The gallery reloads without them.
    await screen.findByTestId('tile-i2');
    expect(screen.queryByTestId('tile-i1')).toBeNull();
    expect(screen.queryByTestId('tile-i3')).toBeNull();
    expect((await stores.samples.listImages('flowers')).items.map((i) => i.imageId)).toEqual(['i2']);
    expect((await stores.blobs.list('uploads/flowers/')).items.map((o) => o.key)).toEqual(['uploads/flowers/2.jpg']);
  });

  it("deletes the project from its settings once its name is typed", async () => {
    const { stores, api } = await seeded();
    render(() => (
      <AppContext.Provider value={{ api, labeler: () => 'owner', setLabeler: () => {} }}>
        <EditProject projectId="flowers" />
      </AppContext.Provider>
    ));
    const input = (await screen.findByTestId('delete-project-name')) as HTMLInputElement;
    const button = screen.getByRole('button', { name: 'Delete project' }) as HTMLButtonElement;
    fireEvent.input(input, { target: { value: 'my flowers' } });
    expect(button.disabled).toBe(true);
    fireEvent.input(input, { target: { value: 'My flowers' } });
    expect(button.disabled).toBe(false);
    fireEvent.click(button);
    await waitFor(() => expect(location.hash).toBe('#/'), { timeout: 10_000 });
    expect(await stores.projects.get('flowers')).toBeUndefined();
    // Only the audit log remains (issue 16).
    expect((await stores.blobs.list('')).items.filter((o) => !o.key.startsWith('audit/'))).toEqual([]);
    expect(stores.samples.projectIds()).toEqual([]);
  });
});
