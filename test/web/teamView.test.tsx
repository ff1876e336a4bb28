// @vitest-environment jsdom
// The Team and Audit log pages against the real API (createApp on the in-memory fakes) of a server without sign-in:
// there are no accounts to manage, so the page says so and manages the member list only; the audit log lists it.
import { fireEvent, render, screen, waitFor, within } from '@solidjs/testing-library';
import { describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { createApp } from '../../functions/api/app.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import { localAuthenticate } from '../../functions/api/auth-local.js';
import { createProject } from '../../functions/domain/projects.js';
import { createApi } from '../../web/src/api/api.js';
import { AppContext } from '../../web/src/shared/context.js';
import { AuditView } from '../../web/src/views/AuditView.js';
import { TeamView } from '../../web/src/views/TeamView.js';

async function seeded() {
  const stores = createMemoryStores();
  await createProject(stores, { id: 'flowers', name: 'Flowers', classes: ['daisy', 'rose'], members: ['ann'] }, 'owner');
  const app = createApp({ stores, featureVectors: shardFeatureVectors(stores.blobs, stores.clock), authenticate: localAuthenticate });
  const api = createApi({ fetch: async (input, init) => app.request(String(input), init as RequestInit), identity: () => ({ kind: 'user', name: 'owner' }) });
  return { stores, api };
}

describe('team page without sign-in', () => {
  it('adds and removes members, says accounts need sign-in, and the audit log lists both', async () => {
    const { stores, api } = await seeded();
    const view = render(() => (
      <AppContext.Provider value={{ api, labeler: () => 'owner', setLabeler: () => {} }}>
        <TeamView projectId="flowers" />
      </AppContext.Provider>
    ));
    await screen.findByTestId('member-ann');
    expect(screen.getByRole('heading', { name: 'Add a member' })).toBeTruthy();
    expect(screen.getByText(/no sign-in, so there are no accounts to manage/)).toBeTruthy();
    expect(screen.queryByTestId('invite-role')).toBeNull();
    expect(screen.queryByTestId('enable-ann')).toBeNull(); // no accounts: nothing to disable

    fireEvent.input(screen.getByTestId('invite-name'), { target: { value: 'bob' } });
    fireEvent.click(screen.getByTestId('invite'));
    await waitFor(() => expect(screen.getByTestId('member-bob').textContent).toContain('Labeler'));
    expect((await stores.projects.get('flowers'))!.members).toEqual(['ann', 'bob']);

    fireEvent.click(within(screen.getByTestId('member-ann')).getByTestId('remove-ann'));
    await waitFor(() => expect(screen.queryByTestId('member-ann')).toBeNull());
    expect((await stores.projects.get('flowers'))!.members).toEqual(['bob']);
    view.unmount();

    render(() => (
      <AppContext.Provider value={{ api, labeler: () => 'owner', setLabeler: () => {} }}>
        <AuditView projectId="flowers" />
      </AppContext.Provider>
    ));
    const table = await screen.findByTestId('audit-table');
    const rows = within(table).getAllByRole('row').slice(1).map((r) => r.textContent);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/owner.*removed a member.*userId: ann/);
    expect(rows[1]).toMatch(/owner.*added a member.*userId: bob/);
  });
});
