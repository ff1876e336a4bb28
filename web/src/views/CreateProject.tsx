// Owner: create or edit a project (classes, task type, confidence levels, ambiguous, strategy, overlap, retention).

import { createResource, createSignal, Show } from 'solid-js';
import { ApiError } from '../api/api.js';
import { DeleteProject } from '../components/Deletion.js';
import { ProjectNav } from '../components/ProjectNav.js';
import { useApp } from '../shared/context.js';
import { hrefFor } from '../shared/router.js';
import type { NewProject, Project, TaskType } from '../api/types.js';

const ID_PATTERN = '[a-z0-9][a-z0-9_\\-]{0,62}';

/** Reads the form into the API body; returns the field errors a user can fix before anything is sent. */
export function projectFromForm(form: {
  id: string;
  name: string;
  classes: string;
  taskType: string;
  levels: string;
  allowAmbiguous: boolean;
  strategy: string;
  overlap: string;
  /** Share of served images drawn at random to measure the model's accuracy (0..1); empty = the server's default. */
  auditRate?: string;
  /** Days after which exports are deleted; empty = kept forever. */
  exportsDays?: string;
  /** Days after an export that originals (with everything derived) are deleted; empty = kept forever. */
  originalsDaysAfterExport?: string;
}): { project?: NewProject; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const id = form.id.trim();
  if (!new RegExp(`^${ID_PATTERN}$`).test(id)) errors.id = 'Use lower-case letters, digits, - and _ (start with a letter or digit).';
  const classes = form.classes
    .split(/[\n,]/)
    .map((c) => c.trim())
    .filter(Boolean);
  if (classes.length === 0) errors.classes = 'Name at least one class.';
  if (new Set(classes).size !== classes.length) errors.classes = 'Class names must be different.';
  const levels = form.levels.trim()
    ? form.levels.split(/[\s,]+/).filter(Boolean).map(Number)
    : undefined;
  if (levels && (levels.some((l) => !(l >= 0 && l <= 1)) || levels.length === 0)) {
    errors.levels = 'Levels are numbers between 0 and 1, e.g. 0, 0.5, 1.';
  }
  const overlap = form.overlap.trim() ? Number(form.overlap) : undefined;
  if (overlap !== undefined && !(Number.isInteger(overlap) && overlap >= 1)) errors.overlap = 'Overlap is a whole number, 1 or more.';
  const auditRate = form.auditRate?.trim() ? Number(form.auditRate) : undefined;
  if (auditRate !== undefined && !(auditRate >= 0 && auditRate <= 1)) errors.auditRate = 'The audit share is a number from 0 to 1, e.g. 0.1.';
  const days = (k: 'exportsDays' | 'originalsDaysAfterExport') => {
    const v = form[k]?.trim() ? Number(form[k]) : undefined;
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) errors[k] = 'A whole number of days, 1 or more (empty: keep forever).';
    return v;
  };
  const exportsDays = days('exportsDays');
  const originalsDaysAfterExport = days('originalsDaysAfterExport');
  if (exportsDays !== undefined && originalsDaysAfterExport !== undefined && exportsDays < originalsDaysAfterExport) {
    errors.exportsDays = 'Keep exports at least as long as the originals wait after one (the export says when they may go).';
  }
  if (Object.keys(errors).length > 0) return { errors };
  const project: NewProject = {
    id,
    name: form.name.trim() || id,
    classes,
    taskType: form.taskType as TaskType,
    allowAmbiguous: form.allowAmbiguous,
    ...(levels ? { confidenceLevels: [...levels].sort((a, b) => a - b) } : {}),
    ...(form.strategy.trim() ? { strategy: form.strategy.trim() } : {}),
    ...(overlap !== undefined ? { overlap } : {}),
    ...(auditRate !== undefined ? { auditRate } : {}),
    ...(exportsDays !== undefined || originalsDaysAfterExport !== undefined
      ? { retention: { ...(exportsDays !== undefined ? { exportsDays } : {}), ...(originalsDaysAfterExport !== undefined ? { originalsDaysAfterExport } : {}) } }
      : {}),
  };
  return { project, errors };
}

type FormErrors = Record<string, string>;

function readForm(form: HTMLFormElement) {
  const f = new FormData(form);
  const get = (k: string) => String(f.get(k) ?? '');
  return projectFromForm({
    id: get('id'),
    name: get('name'),
    classes: get('classes'),
    taskType: get('taskType'),
    levels: get('levels'),
    allowAmbiguous: f.get('allowAmbiguous') === 'on',
    strategy: get('strategy'),
    overlap: get('overlap'),
    auditRate: get('auditRate'),
    exportsDays: get('exportsDays'),
    originalsDaysAfterExport: get('originalsDaysAfterExport'),
  });
}

/** Runs a save, showing field errors before sending and the server's error after. */
function createSaver<T>(send: (project: NewProject) => Promise<T>, done: (result: T) => void) {
  const [errors, setErrors] = createSignal<FormErrors>({});
  const [serverError, setServerError] = createSignal<string>();
  const [busy, setBusy] = createSignal(false);
  async function submit(e: SubmitEvent) {
    e.preventDefault();
    const { project, errors: errs } = readForm(e.currentTarget as HTMLFormElement);
    setErrors(errs);
    setServerError(undefined);
    if (!project) return;
    setBusy(true);
    try {
      done(await send(project));
    } catch (err) {
      setServerError(err instanceof ApiError ? `${err.message} (${err.code})` : String(err));
    } finally {
      setBusy(false);
    }
  }
  return { errors, serverError, busy, submit };
}

export function CreateProject() {
  const app = useApp();
  const saver = createSaver(
    (project) => app.api.createProject(project),
    (created) => (location.hash = hrefFor({ name: 'upload', projectId: created.id })),
  );
  return (
    <main class="page" data-testid="create-project">
      <a href={hrefFor({ name: 'home' })} class="back-link">
        ← Projects
      </a>
      <h1>New project</h1>
      <form class="card form" onSubmit={saver.submit} noValidate>
        <ProjectFields errors={saver.errors()} />
        <SaveRow error={saver.serverError()} busy={saver.busy()} text="Create project" />
      </form>
    </main>
  );
}

export function EditProject(props: { projectId: string }) {
  const app = useApp();
  const [project, { mutate }] = createResource(() => app.api.getProject(props.projectId));
  const [saved, setSaved] = createSignal(false);
  const saver = createSaver(
    (edit) => {
      const { id: _id, ...fields } = edit;
      // Both retention fields empty: back to keeping everything forever.
      return app.api.updateProject(props.projectId, { ...fields, retention: fields.retention ?? {}, version: project()!.version });
    },
    (updated) => {
      mutate(updated);
      setSaved(true);
    },
  );
  return (
    <main class="page" data-testid="edit-project">
      <ProjectNav projectId={props.projectId} current="settings" />
      <h1>Project settings</h1>
      <Show when={project()} fallback={<p class="muted">{project.error ? String(project.error.message) : 'Loading…'}</p>}>
        {(p) => (
          <form class="card form" onSubmit={saver.submit} onInput={() => setSaved(false)} noValidate>
            <ProjectFields errors={saver.errors()} initial={p()} />
            <p class="muted">Classes can be renamed or added at the end, not removed: saved labels refer to them by position.</p>
            <SaveRow error={saver.serverError()} busy={saver.busy()} text="Save changes" />
            <Show when={saved()}>
              <p role="status" class="ok-text">
                Saved (version {p().version}).
              </p>
            </Show>
          </form>
        )}
      </Show>
      <Show when={project()}>{(p) => <DeleteProject projectId={props.projectId} name={p().name} />}</Show>
    </main>
  );
}

function SaveRow(props: { error?: string; busy: boolean; text: string }) {
  return (
    <>
      <Show when={props.error}>
        <p class="error" role="alert">
          {props.error}
        </p>
      </Show>
      <button type="submit" class="primary" disabled={props.busy}>
        {props.text}
      </button>
    </>
  );
}

function ProjectFields(props: { errors: FormErrors; initial?: Project }) {
  const fieldError = (k: string) => (
    <Show when={props.errors[k]}>
      <span class="field-error" id={`${k}-error`} role="alert">
        {props.errors[k]}
      </span>
    </Show>
  );
  const init = props.initial;
  /** A retention period in whole days; empty keeps forever. Its error shows right after it. */
  const daysInput = (k: 'exportsDays' | 'originalsDaysAfterExport') => (
    <>
      <input
        name={k}
        type="number"
        min="1"
        step="1"
        placeholder="keep"
        value={init?.retention?.[k] ?? ''}
        aria-invalid={!!props.errors[k]}
        aria-describedby={`${k}-error`}
      />
      {fieldError(k)}
    </>
  );
  return (
    <>
      <label>
        Id <span class="muted">(used in URLs and the upload folder)</span>
        <input
          name="id"
          required
          pattern={ID_PATTERN}
          placeholder="flowers"
          value={init?.id ?? ''}
          readOnly={!!init}
          aria-invalid={!!props.errors.id}
          aria-describedby="id-error"
        />
        {fieldError('id')}
      </label>
      <label>
        Name
        <input name="name" placeholder="Flowers" value={init?.name ?? ''} />
      </label>
      <label>
        Classes <span class="muted">(one per line or comma-separated; the order sets the keys 1, 2, …)</span>
        <textarea
          name="classes"
          rows="4"
          required
          placeholder={'daisy\ndandelion\nrose'}
          value={init?.classes.join('\n') ?? ''}
          aria-invalid={!!props.errors.classes}
          aria-describedby="classes-error"
        />
        {fieldError('classes')}
      </label>
      <label>
        Task
        <select name="taskType" value={init?.taskType ?? 'single-label'}>
          <option value="single-label">Single label (one class per image)</option>
          <option value="multi-label">Multi-label (any number of classes)</option>
          <option value="box-review">Box review (detector proposals)</option>
        </select>
      </label>
      <label>
        Confidence levels <span class="muted">(default 0, 0.25, 0.5, 0.75, 1)</span>
        <input
          name="levels"
          placeholder="0, 0.25, 0.5, 0.75, 1"
          value={init?.confidenceLevels.join(', ') ?? ''}
          aria-invalid={!!props.errors.levels}
          aria-describedby="levels-error"
        />
        {fieldError('levels')}
      </label>
      <label class="check">
        <input type="checkbox" name="allowAmbiguous" checked={init?.allowAmbiguous ?? true} /> Offer “ambiguous”
      </label>
      <div class="row">
        <label>
          Strategy
          <input name="strategy" placeholder="server default" value={init?.strategy ?? ''} />
        </label>
        <label>
          Overlap <span class="muted">(labelers per image)</span>
          <input
            name="overlap"
            type="number"
            min="1"
            step="1"
            placeholder="1"
            value={init?.overlap ?? ''}
            aria-invalid={!!props.errors.overlap}
            aria-describedby="overlap-error"
          />
          {fieldError('overlap')}
        </label>
        <label title="Served images drawn at random among those not yet labeled, to measure the model's accuracy honestly (README: what the figures on screen mean)">
          Audit share <span class="muted">(0–1)</span>
          <input
            name="auditRate"
            type="number"
            min="0"
            max="1"
            step="0.01"
            placeholder="0.1"
            value={init?.auditRate ?? ''}
            aria-invalid={!!props.errors.auditRate}
            aria-describedby="auditRate-error"
          />
          {fieldError('auditRate')}
        </label>
      </div>
      <fieldset class="row" data-testid="retention">
        <legend>
          Retention <span class="muted">(empty: keep forever; labels stay in the exports already made)</span>
        </legend>
        <label>
          Delete exports after <span class="muted">(days)</span>
          {daysInput('exportsDays')}
        </label>
        <label title="Originals, with their thumbnails, samples and labels, are deleted this many days after an export of every labeler's labels that held them finished">
          Delete originals after an export <span class="muted">(days)</span>
          {daysInput('originalsDaysAfterExport')}
        </label>
      </fieldset>
    </>
  );
}
