// Owner: the project's audit log, newest first: who uploaded, imported, exported, deleted, auto-labeled, changed
// settings or membership, and when. Loads page by page; the whole log downloads as CSV or JSON Lines.

import { createSignal, For, onMount, Show } from 'solid-js';
import { ApiError, isMissingThing, type AuditEntry } from '../api/api.js';
import { ProjectNav } from '../components/ProjectNav.js';
import { ProjectNotFound } from '../components/ProjectNotFound.js';
import { useApp } from '../shared/context.js';
import './owner.css';

/** What an action is called on screen. */
const ACTIONS: Record<string, string> = {
  'project.create': 'created the project',
  'project.edit': 'changed the settings',
  'project.delete': 'deleted the project',
  'images.upload': 'uploaded images',
  'images.import': 'imported images',
  'images.delete': 'deleted images',
  'labels.import': 'imported labels',
  'labels.delete': "deleted a labeler's work",
  'features.import': 'imported embeddings',
  'export.start': 'exported',
  'autolabel.run': 'auto-labeled',
  'autolabel.undo': 'undid an auto-label batch',
  'retention.sweep': 'deleted exports and originals past the retention settings',
  'member.add': 'added a member',
  'member.remove': 'removed a member',
};

const details = (e: AuditEntry) =>
  Object.entries(e.target ?? {})
    .map(([k, v]) => `${k}: ${v}`)
    .join(' · ');

export function AuditView(props: { projectId: string }) {
  const app = useApp();
  const [entries, setEntries] = createSignal<AuditEntry[]>([]);
  const [cursor, setCursor] = createSignal<string>();
  const [loaded, setLoaded] = createSignal(false);
  const [error, setError] = createSignal<string>();
  const [notFound, setNotFound] = createSignal(false);

  async function more() {
    try {
      const page = await app.api.audit(props.projectId, cursor());
      setEntries((list) => [...list, ...page.items]);
      setCursor(page.cursor);
      setLoaded(true);
      setError(undefined);
    } catch (err) {
      if (isMissingThing(err)) setNotFound(true);
      else setError(err instanceof ApiError ? err.message : String(err));
    }
  }
  onMount(() => void more());

  async function download(format: 'csv' | 'jsonl') {
    try {
      const blob = await app.api.auditFile(props.projectId, format);
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = `audit-${props.projectId}.${format}`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    } catch (err) {
      setError((err as Error).message);
    }
  }

  return (
    <Show when={!notFound()} fallback={<ProjectNotFound projectId={props.projectId} />}>
      <main class="page audit" data-testid="audit-view">
        <ProjectNav projectId={props.projectId} current="audit" />
        <div class="section-head">
          <h1>Audit log</h1>
          <div class="row">
            <button type="button" class="ghost" onClick={() => void download('csv')}>
              Download CSV
            </button>
            <button type="button" class="ghost" onClick={() => void download('jsonl')}>
              Download JSON Lines
            </button>
          </div>
        </div>
        <Show when={error()}>
          <p class="error" role="alert">{error()}</p>
        </Show>
        <Show when={loaded()} fallback={<Show when={!error()}><p class="muted">Loading the log…</p></Show>}>
          <Show when={entries().length > 0} fallback={<p class="muted">Nothing recorded yet.</p>}>
            <div class="table-scroll">
              <table class="audit-table" data-testid="audit-table">
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Who</th>
                    <th scope="col">What</th>
                    <th scope="col">Details</th>
                  </tr>
                </thead>
                <tbody>
                  <For each={entries()}>
                    {(e) => (
                      <tr data-action={e.action}>
                        <td>
                          <time datetime={e.at}>{new Date(e.at).toLocaleString()}</time>
                        </td>
                        <td>{e.actor}</td>
                        <td>{ACTIONS[e.action] ?? e.action}</td>
                        <td class="muted">{details(e)}</td>
                      </tr>
                    )}
                  </For>
                </tbody>
              </table>
            </div>
            <Show when={cursor()}>
              <button type="button" onClick={() => void more()}>
                Show older entries
              </button>
            </Show>
          </Show>
        </Show>
      </main>
    </Show>
  );
}
