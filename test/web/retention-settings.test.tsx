// @vitest-environment jsdom
// Retention in the project settings (issue 16), against the real API (createApp on the in-memory fakes): the owner
// sees the project's days, changes them and they are saved; emptying both keeps everything forever again; a value
// the server would refuse is named on its field before anything is sent.
import { fireEvent, render, screen, waitFor } from '@solidjs/testing-library';
import { describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { createApp } from '../../functions/api/app.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import { localAuthenticate } from '../../functions/api/auth-local.js';
import { createProject } from '../../functions/domain/projects.js';
import { createApi } from '../../web/src/api/api.js';
import { AppContext } from '../../web/src/shared/context.js';
import { EditProject, projectFromForm } from '../../web/src/views/CreateProject.js';

const base = { id: 'flowers', name: '', classes: 'daisy, rose', taskType: 'single-label', levels: '', allowAmbiguous: true, strategy: '', overlap: '' };

describe('retention in the project settings', () => {
  it('shows the days, saves changed ones, and keeps forever when both are emptied', async () => {
    const stores = createMemoryStores();
    await createProject(stores, { id: 'flowers', name: 'My flowers', classes: ['daisy', 'rose'], retention: { exportsDays: 60 } }, 'owner');
    const app = createApp({ stores, featureVectors: shardFeatureVectors(stores.blobs, stores.clock), authenticate: localAuthenticate });
    const api = createApi({ fetch: async (input, init) => app.request(String(input), init as RequestInit), identity: () => ({ kind: 'user', name: 'owner' }) });
    render(() => (
      <AppContext.Provider value={{ api, labeler: () => 'owner', setLabeler: () => {} }}>
        <EditProject projectId="flowers" />
      </AppContext.Provider>
    ));
    const exportsDays = (await screen.findByLabelText(/Delete exports after/)) as HTMLInputElement;
    const originals = screen.getByLabelText(/Delete originals after an export/) as HTMLInputElement;
    expect(exportsDays.value).toBe('60');
    expect(originals.value).toBe('');
    fireEvent.input(originals, { target: { value: '30' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save changes' }));
    await screen.findByText(/Saved \(version 2\)/);
    expect((await stores.projects.get('flowers'))!.retention).toEqual({ exportsDays: 60, originalsDaysAfterExport: 30 });

    fireEvent.input(exportsDays, { target: { value: '' } });
    fireEvent.input(originals, { target: { value: '' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save changes' }));
    await waitFor(async () => expect((await stores.projects.get('flowers'))!.retention).toEqual({}));
  });

  it('builds the body from the form and names the field to fix', () => {
    expect(projectFromForm({ ...base, exportsDays: '90', originalsDaysAfterExport: '30' }).project?.retention).toEqual({ exportsDays: 90, originalsDaysAfterExport: 30 });
    expect(projectFromForm({ ...base, exportsDays: ' ', originalsDaysAfterExport: '' }).project).not.toHaveProperty('retention');
    expect(projectFromForm({ ...base, exportsDays: '0' }).errors).toHaveProperty('exportsDays');
    expect(projectFromForm({ ...base, originalsDaysAfterExport: '2.5' }).errors).toHaveProperty('originalsDaysAfterExport');
    const { project, errors } = projectFromForm({ ...base, exportsDays: '7', originalsDaysAfterExport: '30' });
    expect(project).toBeUndefined();
    expect(Object.keys(errors)).toEqual(['exportsDays']);
  });
});
