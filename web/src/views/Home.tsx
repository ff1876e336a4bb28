// Start here: say who is labeling (remembered in this browser) and pick a project: each card shows its counts and
// progress and leads straight back to labeling.

import { createResource, createSignal, For, Show } from 'solid-js';
import { useApp } from '../shared/context.js';
import './owner.css';
import { hrefFor } from '../shared/router.js';
import { percent } from '../labeling/labels.js';
import type { Project } from '../api/types.js';

// The names the local server accepts in X-Winnow-User.
const NAME = /^[\p{L}\p{N}_.@ -]{1,64}$/u;
const NAME_PATTERN = '[\\p{L}\\p{N}_.@ \\-]{1,64}';

export function Home() {
  const app = useApp();
  const [name, setName] = createSignal(app.labeler());
  const [projects, { refetch }] = createResource(
    () => app.labeler() || undefined,
    () => app.api.listProjects(),
  );

  function saveName(e: SubmitEvent) {
    e.preventDefault();
    const trimmed = name().trim();
    if (NAME.test(trimmed)) app.setLabeler(trimmed);
  }

  return (
    <main class="home" data-testid="home">
      <header class="home-head">
        <h1>Winnow</h1>
        <p class="muted">Label images quickly; the model learns as you go.</p>
      </header>

      <Show
        when={!app.signOut}
        fallback={
          <div class="card labeler-form row" aria-label="Who is labeling">
            <p>
              Signed in as <strong data-testid="labeler">{app.labeler()}</strong>
            </p>
            <button type="button" class="ghost" data-testid="sign-out" onClick={() => app.signOut?.()}>
              Sign out
            </button>
          </div>
        }
      >
      <form class="card labeler-form" onSubmit={saveName} aria-label="Who is labeling">
        <label for="labeler-name">Your name</label>
        <div class="row">
          <input
            id="labeler-name"
            name="labeler"
            autocomplete="nickname"
            required
            maxLength={64}
            pattern={NAME_PATTERN}
            title="Letters, digits, spaces and . _ - @ (up to 64)"
            value={name()}
            onInput={(e) => setName(e.currentTarget.value)}
          />
          <button type="submit">{app.labeler() ? 'Change' : 'Continue'}</button>
        </div>
        <Show when={app.labeler()}>
          <p class="muted">Labeling as <strong data-testid="labeler">{app.labeler()}</strong></p>
        </Show>
      </form>
      </Show>

      <Show when={app.labeler()}>
        <section class="card" aria-labelledby="projects-title">
          <div class="section-head">
            <h2 id="projects-title">Projects</h2>
            <a class="button" href={hrefFor({ name: 'new-project' })}>
              New project
            </a>
          </div>
          <Show when={!projects.error} fallback={<LoadError error={projects.error} retry={refetch} />}>
            <Show when={projects()} fallback={<p class="muted">Loading projects…</p>}>
              {(list) => (
                <Show when={list().length > 0} fallback={<p class="muted">No projects yet: create one, or import a folder with the CLI.</p>}>
                  <ul class="project-list" data-testid="project-list">
                    <For each={list()}>{(p) => <ProjectRow project={p} />}</For>
                  </ul>
                </Show>
              )}
            </Show>
          </Show>
        </section>
      </Show>
    </main>
  );
}

/** A project card: what is there (images ready or failed, classes), how far labeling is, who is at it today, how
 * good the model is, and the one action most people want next: continue labeling. */
function ProjectRow(props: { project: Project }) {
  const app = useApp();
  const id = () => props.project.id;
  const [progress] = createResource(() => app.api.progress(id()).catch(() => undefined));
  const [quality] = createResource(() => app.api.quality(id()).catch(() => undefined));
  const done = () => {
    const p = progress();
    return p && p.total > 0 ? p.labeled / p.total : 0;
  };
  const activeToday = () => progress()?.labelers.filter((l) => l.today > 0).length ?? 0;
  const action = () => {
    const p = progress();
    if (!p || p.total === 0) return 'Open';
    if (p.remaining === 0) return 'Review labels';
    return p.labeled === 0 ? 'Start labeling' : 'Continue labeling';
  };
  return (
    <li class="project-row project-card" data-testid={`project-card-${props.project.id}`}>
      <a class="project-open" href={hrefFor({ name: 'label', projectId: props.project.id })} data-testid={`project-${props.project.id}`}>
        <strong>{props.project.name}</strong>
        <span class="muted">
          {props.project.classes.length} classes · {props.project.taskType}
        </span>
      </a>
      <Show when={progress()} fallback={<p class="muted project-stats">Loading counts…</p>}>
        {(p) => (
          <div class="project-stats" data-testid={`project-stats-${props.project.id}`}>
            <p>
              <span data-testid="images-ready">{p().images?.ready ?? p().total} images ready</span>
              <Show when={(p().images?.failed ?? 0) > 0}>
                <span class="bad"> · {p().images!.failed} failed</span>
              </Show>
              <Show when={(p().images?.pending ?? 0) > 0}>
                <span> · {p().images!.pending} processing</span>
              </Show>
            </p>
            <div class="progress-line">
              <progress max={1} value={done()} aria-label={`${props.project.name}: labeled`} />
              <span data-testid="labeled">
                {p().labeled} of {p().total} labeled ({Math.round(done() * 100)}%)
              </span>
            </div>
            <p class="muted">
              {activeToday()} labeler{activeToday() === 1 ? '' : 's'} active today
              <Show when={quality()?.estimate}>
                {(e) => (
                  <span data-testid="accuracy">
                    {' '}· model accuracy ≈ {percent(e().accuracy)} ({percent(e().low)}–{percent(e().high)})
                  </span>
                )}
              </Show>
            </p>
          </div>
        )}
      </Show>
      <a class="button primary continue" href={hrefFor({ name: 'label', projectId: props.project.id })} data-testid={`continue-${props.project.id}`}>
        {action()}
      </a>
      <nav class="project-links" aria-label={`${props.project.name} tools`}>
        <a href={hrefFor({ name: 'upload', projectId: props.project.id })}>Upload</a>
        <a href={hrefFor({ name: 'gallery', projectId: props.project.id })}>Gallery</a>
        <a href={hrefFor({ name: 'settings', projectId: props.project.id })}>Settings</a>
        <a href={hrefFor({ name: 'export', projectId: props.project.id })}>Export</a>
        <a href={hrefFor({ name: 'team', projectId: props.project.id })}>Team</a>
      </nav>
    </li>
  );
}

export function LoadError(props: { error: unknown; retry: () => void }) {
  return (
    <div class="error" role="alert">
      <p>{(props.error as Error)?.message ?? String(props.error)}</p>
      <button type="button" onClick={() => props.retry()}>
        Try again
      </button>
    </div>
  );
}
