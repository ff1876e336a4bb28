// Owner deletions in the web app: follow a deletion job until it is done, and the "type the project's name"
// confirmation of a project deletion (functions/api/routes/deletions.ts).

import { createSignal, Show } from 'solid-js';
import type { DeletionJob } from '../api/api.js';
import { useApp } from '../shared/context.js';
import { hrefFor } from '../shared/router.js';

/** Polls the job until it is done (resolves) or failed (throws with its reason). */
export async function followDeletion(deletion: (url: string) => Promise<DeletionJob>, started: DeletionJob, onProgress?: (job: DeletionJob) => void): Promise<DeletionJob> {
  let job = started;
  for (;;) {
    onProgress?.(job);
    if (job.status === 'done') return job;
    if (job.status === 'failed') throw new Error(`deletion failed: ${job.error ?? 'no reason given'}; try again to finish it`);
    await new Promise((r) => setTimeout(r, 500));
    job = { ...(await deletion(started.statusUrl!)), statusUrl: started.statusUrl };
  }
}

export const progressText = (job: DeletionJob) =>
  job.status === 'done' ? 'Deleted.' : `Deleting… ${job.progress.done}${job.progress.total !== undefined ? ` of ${job.progress.total}` : ''}`;

/** Project settings: delete the project with everything in it, once its name is typed. */
export function DeleteProject(props: { projectId: string; name: string }) {
  const app = useApp();
  const [typed, setTyped] = createSignal('');
  const [busy, setBusy] = createSignal(false);
  const [status, setStatus] = createSignal<string>();
  const [error, setError] = createSignal<string>();
  async function remove() {
    setBusy(true);
    setError(undefined);
    try {
      const started = await app.api.deleteProject(props.projectId, typed());
      await followDeletion(app.api.deletion, started, (job) => setStatus(progressText(job)));
      location.hash = hrefFor({ name: 'home' });
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section class="card form danger-zone" data-testid="delete-project">
      <h2>Delete this project</h2>
      <p class="muted">
        Deletes every image (originals included), label, export and model of the project at once, for everyone. This
        cannot be undone. Type the project's name, <strong>{props.name}</strong>, to confirm.
      </p>
      <label>
        Project name
        <input type="text" value={typed()} onInput={(e) => setTyped(e.currentTarget.value)} autocomplete="off" data-testid="delete-project-name" />
      </label>
      <button type="button" class="danger" disabled={busy() || typed().trim() !== props.name.trim()} onClick={() => void remove()}>
        Delete project
      </button>
      <Show when={status()}>
        <p role="status">{status()}</p>
      </Show>
      <Show when={error()}>
        <p class="error" role="alert">{error()}</p>
      </Show>
    </section>
  );
}
