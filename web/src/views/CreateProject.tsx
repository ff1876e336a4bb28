// Owner: create a project (classes, task type, confidence levels, ambiguous, strategy, overlap).

import { createSignal, Show } from 'solid-js';
import { ApiError } from '../api.js';
import { useApp } from '../context.js';
import { hrefFor } from '../router.js';
import type { NewProject, TaskType } from '../types.js';

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
  };
  return { project, errors };
}

export function CreateProject() {
  const app = useApp();
  const [errors, setErrors] = createSignal<Record<string, string>>({});
  const [serverError, setServerError] = createSignal<string>();
  const [busy, setBusy] = createSignal(false);

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const get = (k: string) => String(f.get(k) ?? '');
    const { project, errors: errs } = projectFromForm({
      id: get('id'),
      name: get('name'),
      classes: get('classes'),
      taskType: get('taskType'),
      levels: get('levels'),
      allowAmbiguous: f.get('allowAmbiguous') === 'on',
      strategy: get('strategy'),
      overlap: get('overlap'),
    });
    setErrors(errs);
    setServerError(undefined);
    if (!project) return;
    setBusy(true);
    try {
      const created = await app.api.createProject(project);
      location.hash = hrefFor({ name: 'upload', projectId: created.id });
    } catch (err) {
      setServerError(err instanceof ApiError ? `${err.message} (${err.code})` : String(err));
    } finally {
      setBusy(false);
    }
  }

  const fieldError = (k: string) => (
    <Show when={errors()[k]}>
      <span class="field-error" id={`${k}-error`} role="alert">
        {errors()[k]}
      </span>
    </Show>
  );

  return (
    <main class="page" data-testid="create-project">
      <a href={hrefFor({ name: 'home' })} class="back-link">
        ← Projects
      </a>
      <h1>New project</h1>
      <form class="card form" onSubmit={submit} noValidate>
        <label>
          Id <span class="muted">(used in URLs and the upload folder)</span>
          <input name="id" required pattern={ID_PATTERN} placeholder="flowers" aria-invalid={!!errors().id} aria-describedby="id-error" />
          {fieldError('id')}
        </label>
        <label>
          Name
          <input name="name" placeholder="Flowers" />
        </label>
        <label>
          Classes <span class="muted">(one per line or comma-separated; the order sets the keys 1, 2, …)</span>
          <textarea name="classes" rows="4" required placeholder={'daisy\ndandelion\nrose'} aria-invalid={!!errors().classes} aria-describedby="classes-error" />
          {fieldError('classes')}
        </label>
        <label>
          Task
          <select name="taskType">
            <option value="single-label">Single label (one class per image)</option>
            <option value="multi-label">Multi-label (any number of classes)</option>
            <option value="box-review">Box review (detector proposals)</option>
          </select>
        </label>
        <label>
          Confidence levels <span class="muted">(default 0, 0.25, 0.5, 0.75, 1)</span>
          <input name="levels" placeholder="0, 0.25, 0.5, 0.75, 1" aria-invalid={!!errors().levels} aria-describedby="levels-error" />
          {fieldError('levels')}
        </label>
        <label class="check">
          <input type="checkbox" name="allowAmbiguous" checked /> Offer “ambiguous”
        </label>
        <div class="row">
          <label>
            Strategy
            <input name="strategy" placeholder="server default" />
          </label>
          <label>
            Overlap <span class="muted">(labelers per image)</span>
            <input name="overlap" type="number" min="1" step="1" placeholder="1" aria-invalid={!!errors().overlap} aria-describedby="overlap-error" />
            {fieldError('overlap')}
          </label>
        </div>
        <Show when={serverError()}>
          <p class="error" role="alert">
            {serverError()}
          </p>
        </Show>
        <button type="submit" class="primary" disabled={busy()}>
          Create project
        </button>
      </form>
    </main>
  );
}
