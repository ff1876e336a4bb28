// Owner: the project's team. Who may label it, who owns Winnow, who labeled how much and when; invite someone
// (straight into this project), add or remove members, promote or demote, disable or enable, reset a password.
// A temporary password the server shows once (local sign-in: no mail) is shown here once, to pass on. On a server
// without accounts (the local stack without sign-in) only the member list can be changed, and the page says so.

import { createSignal, For, onMount, Show } from 'solid-js';
import { createStore, reconcile } from 'solid-js/store';
import { ApiError, isMissingThing, type TeamRow } from '../api/api.js';
import { ProjectNav } from '../components/ProjectNav.js';
import { ProjectNotFound } from '../components/ProjectNotFound.js';
import { useApp } from '../shared/context.js';
import './owner.css';

const when = (iso?: string) => (iso ? new Date(iso).toLocaleString() : '—');

export function TeamView(props: { projectId: string }) {
  const app = useApp();
  const [notFound, setNotFound] = createSignal(false);
  // A plain signal, not a resource: reloading after an action must not suspend the page (focus stays on the button).
  // Rows are reconciled by user id, so a row's buttons survive a reload.
  const [state, setState] = createStore<{ data?: Awaited<ReturnType<typeof app.api.team>> }>({});
  const team = () => state.data;
  const [loadError, setLoadError] = createSignal<string>();
  async function refetch() {
    try {
      const data = await app.api.team(props.projectId);
      setState('data', reconcile(data, { key: 'userId' }));
      setLoadError(undefined);
    } catch (err) {
      if (isMissingThing(err)) setNotFound(true);
      else setLoadError((err as Error).message);
    }
  }
  onMount(() => void refetch());
  const [error, setError] = createSignal<string>();
  const [notice, setNotice] = createSignal<string>();
  const [secret, setSecret] = createSignal<{ userId: string; password: string }>();
  const [busy, setBusy] = createSignal(false);
  const [name, setName] = createSignal('');
  const [email, setEmail] = createSignal('');
  const [role, setRole] = createSignal<'labeler' | 'owner'>('labeler');

  async function act(what: () => Promise<string | void>) {
    // Buttons are aria-disabled while an action runs (a disabled button would drop the keyboard focus).
    if (busy()) return;
    setBusy(true);
    setError(undefined);
    setNotice(undefined);
    try {
      const said = await what();
      if (said) setNotice(said);
      await refetch();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  const invite = (e: SubmitEvent) => {
    e.preventDefault();
    const userId = name().trim();
    if (!userId) return;
    void act(async () => {
      if (team()?.directory) {
        const made = await app.api.invite({ userId, role: role(), projectId: props.projectId, ...(email().trim() ? { email: email().trim() } : {}) });
        if (made.temporaryPassword) setSecret({ userId: made.account.userId, password: made.temporaryPassword });
        setName('');
        setEmail('');
        return made.delivery === 'email' ? `Invited ${made.account.userId}: the sign-in details went by email.` : `Invited ${made.account.userId}.`;
      }
      await app.api.addMember(props.projectId, userId);
      setName('');
      return `Added ${userId} to the project.`;
    });
  };

  const resetPassword = (row: TeamRow) =>
    act(async () => {
      const reset = await app.api.resetPassword(row.userId);
      if (reset.temporaryPassword) setSecret({ userId: row.userId, password: reset.temporaryPassword });
      return reset.delivery === 'email' ? `${row.userId} was sent a code by email to choose a new password.` : undefined;
    });

  return (
    <Show when={!notFound()} fallback={<ProjectNotFound projectId={props.projectId} />}>
      <main class="page team" data-testid="team-view">
        <ProjectNav projectId={props.projectId} current="team" />
        <h1>Team</h1>
        <Show when={loadError()}>
          <p class="error" role="alert">{loadError()}</p>
        </Show>
        <form class="card invite-form" onSubmit={invite} aria-labelledby="invite-title">
          <h2 id="invite-title">{team()?.directory === false ? 'Add a member' : 'Invite someone'}</h2>
          <div class="row wrap">
            <label>
              User name
              <input name="userId" required maxLength={128} autocomplete="off" value={name()} onInput={(e) => setName(e.currentTarget.value)} data-testid="invite-name" />
            </label>
            <Show when={team()?.directory}>
              <label>
                Email (optional)
                <input name="email" type="email" maxLength={254} value={email()} onInput={(e) => setEmail(e.currentTarget.value)} />
              </label>
              <label>
                Role
                <select value={role()} onChange={(e) => setRole(e.currentTarget.value as 'labeler' | 'owner')} data-testid="invite-role">
                  <option value="labeler">Labeler (this project)</option>
                  <option value="owner">Owner (every project)</option>
                </select>
              </label>
            </Show>
            <button type="submit" aria-disabled={busy()} data-testid="invite">
              {team()?.directory === false ? 'Add' : 'Invite'}
            </button>
          </div>
          <Show when={team()?.directory === false}>
            <p class="muted">This server has no sign-in, so there are no accounts to manage: start it with sign-in on to invite people.</p>
          </Show>
        </form>
        <Show when={secret()}>
          {(s) => (
            <div class="card temp-secret" role="status" data-testid="temporary-password">
              <p>
                Temporary password for <strong>{s().userId}</strong>, shown only now: <code>{s().password}</code>
              </p>
              <button type="button" class="ghost" onClick={() => setSecret(undefined)}>
                Done
              </button>
            </div>
          )}
        </Show>
        <Show when={error()}>
          <p class="error" role="alert" data-testid="team-error">{error()}</p>
        </Show>
        <Show when={notice()}>
          <p class="muted" role="status">{notice()}</p>
        </Show>
        <Show when={team()} fallback={<Show when={!loadError()}><p class="muted">Loading the team…</p></Show>}>
          {(t) => (
            <div class="table-scroll">
              <table class="team-table" data-testid="team-table">
                <thead>
                  <tr>
                    <th scope="col">Person</th>
                    <th scope="col">Role</th>
                    <th scope="col">Labels here</th>
                    <th scope="col">Last label</th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  <For each={t().team}>
                    {(row) => (
                      <tr data-testid={`member-${row.userId}`}>
                        <th scope="row">
                          {row.userId}
                          <Show when={row.email}>
                            <span class="muted"> · {row.email}</span>
                          </Show>
                          <Show when={!row.enabled}>
                            <span class="badge bad"> disabled</span>
                          </Show>
                          <Show when={t().directory && !row.hasAccount}>
                            <span class="badge"> no account</span>
                          </Show>
                        </th>
                        <td>{row.role === 'owner' ? 'Owner' : row.member ? 'Labeler' : 'Not a member'}</td>
                        <td>{row.labels}</td>
                        <td>{when(row.lastLabelAt)}</td>
                        <td>
                          <div class="actions">
                          <Show when={row.role !== 'owner'}>
                            <Show
                              when={row.member}
                              fallback={
                                <button type="button" aria-disabled={busy()} onClick={() => void act(async () => void (await app.api.addMember(props.projectId, row.userId)))}>
                                  Add to project
                                </button>
                              }
                            >
                              <button type="button" class="danger" aria-disabled={busy()} data-testid={`remove-${row.userId}`}
                                onClick={() => void act(async () => {
                                  const r = await app.api.removeMember(props.projectId, row.userId);
                                  return `Removed ${row.userId}${r.leasesEnded ? `; ${r.leasesEnded} image${r.leasesEnded === 1 ? '' : 's'} they held went back to the others` : ''}.`;
                                })}>
                                Remove from project
                              </button>
                            </Show>
                          </Show>
                          <Show when={t().directory && row.hasAccount && row.userId !== app.labeler()}>
                            <button type="button" aria-disabled={busy()} data-testid={`role-${row.userId}`}
                              onClick={() => void act(async () => void (await app.api.changeUser({ userId: row.userId, role: row.role === 'owner' ? 'labeler' : 'owner' })))}>
                              {row.role === 'owner' ? 'Make labeler' : 'Make owner'}
                            </button>
                            <button type="button" aria-disabled={busy()} data-testid={`enable-${row.userId}`}
                              onClick={() => void act(async () => void (await app.api.changeUser({ userId: row.userId, enabled: !row.enabled })))}>
                              {row.enabled ? 'Disable' : 'Enable'}
                            </button>
                            <button type="button" aria-disabled={busy()} data-testid={`reset-${row.userId}`} onClick={() => void resetPassword(row)}>
                              Reset password
                            </button>
                          </Show>
                          </div>
                        </td>
                      </tr>
                    )}
                  </For>
                </tbody>
              </table>
            </div>
          )}
        </Show>
      </main>
    </Show>
  );
}
