// Owner: export the project's labels. Pick a format and filters, start the job, watch its progress, download the
// file through the short-lived link the server hands out when it is done. A lazy chunk: labelers never load it.

import { createResource, createSignal, For, onCleanup, Show } from 'solid-js';
import { ProjectNav } from '../components/ProjectNav.js';
import { ProjectNotFound } from '../components/ProjectNotFound.js';
import { isMissingThing } from '../api/api.js';
import { useApp } from '../shared/context.js';
import type { ExportFormat, ExportJob, ExportRequest, Project } from '../api/types.js';

export const EXPORT_FORMATS: { value: ExportFormat; title: string; hint: string }[] = [
  { value: 'coco', title: 'COCO JSON', hint: 'Boxes as [x, y, w, h] pixels; image-level labels in labels.json.' },
  { value: 'voc', title: 'Pascal VOC', hint: 'One XML per image, 1-based pixel corners.' },
  { value: 'yolo', title: 'YOLO', hint: 'One txt per image (class cx cy w h, normalised) and data.yaml.' },
  { value: 'csv', title: 'CSV', hint: 'filename,bbox,annotation,feat_idx plus confidences, ambiguous, labeler, time.' },
  { value: 'jsonl', title: 'JSON Lines', hint: 'SageMaker Ground Truth output manifest.' },
  { value: 'folders', title: 'Class folders', hint: 'class/file.jpg for classification training (always with images).' },
  { value: 'embeddings', title: 'Embeddings', hint: 'features.npy (float32) and a labels.csv index.' },
];

const POLL_MS = 1000;

/** Formats that carry boxes only (the server refuses them for classification projects, as here). */
const BOXES_ONLY: readonly ExportFormat[] = ['voc', 'yolo'];

/** Why a format does not fit this project, or undefined (also while the project is not known yet). */
export function formatUnfit(project: Pick<Project, 'taskType' | 'detection'> | undefined, format: ExportFormat): string | undefined {
  if (!project?.taskType || !BOXES_ONLY.includes(format)) return undefined;
  if (project.taskType === 'box-review' || project.detection?.enabled) return undefined;
  const carriers = EXPORT_FORMATS.filter((f) => !BOXES_ONLY.includes(f.value)).map((f) => f.title);
  return `Boxes only: this project's labels are image-level, and every image would read as background. Use ${carriers.join(', ')}.`;
}

export function ExportView(props: { projectId: string }) {
  const app = useApp();
  const [format, setFormat] = createSignal<ExportFormat>('coco');
  const [include, setInclude] = createSignal<'labeled' | 'all'>('labeled');
  const [labeler, setLabeler] = createSignal('');
  const [excludeAmbiguous, setExcludeAmbiguous] = createSignal(false);
  const [images, setImages] = createSignal(true);
  const [job, setJob] = createSignal<ExportJob>();
  const [error, setError] = createSignal<string>();
  const [progress] = createResource(() => app.api.progress(props.projectId).catch(() => undefined));
  const [notFound, setNotFound] = createSignal(false);
  const [project] = createResource(() =>
    app.api.getProject(props.projectId).catch((err) => {
      if (isMissingThing(err)) setNotFound(true);
      return undefined;
    }),
  );
  const needsImages = () => format() === 'folders';
  const running = () => job()?.state === 'queued' || job()?.state === 'running';

  let timer: ReturnType<typeof setTimeout> | undefined;
  onCleanup(() => clearTimeout(timer));
  function poll(exportId: string) {
    timer = setTimeout(async () => {
      try {
        const next = await app.api.exportStatus(props.projectId, exportId);
        setJob(next);
        if (next.state === 'queued' || next.state === 'running') poll(exportId);
      } catch (err) {
        setError((err as Error).message);
      }
    }, POLL_MS);
  }

  async function start(e: SubmitEvent) {
    e.preventDefault();
    setError(undefined);
    setJob(undefined);
    const body: ExportRequest = {
      format: format(),
      include: include(),
      excludeAmbiguous: excludeAmbiguous(),
      images: needsImages() || images(),
      ...(labeler().trim() ? { labelerId: labeler().trim() } : {}),
    };
    try {
      const started = await app.api.startExport(props.projectId, body);
      setJob(started);
      poll(started.exportId);
    } catch (err) {
      setError((err as Error).message);
    }
  }

  return (
    <Show when={!notFound()} fallback={<ProjectNotFound projectId={props.projectId} />}>
    <main class="page" data-testid="export-view">
      <ProjectNav projectId={props.projectId} current="export" />
      <h1>Export labels</h1>
      <form class="card form" onSubmit={start} aria-label="Export">
        <fieldset>
          <legend>Format</legend>
          <For each={EXPORT_FORMATS}>
            {(f) => {
              const unfit = () => formatUnfit(project(), f.value);
              return (
                <label class="choice" classList={{ unfit: !!unfit() }} data-testid={`format-${f.value}`}>
                  <input
                    type="radio"
                    name="format"
                    value={f.value}
                    checked={format() === f.value}
                    disabled={!!unfit()}
                    aria-describedby={unfit() ? `unfit-${f.value}` : undefined}
                    onChange={() => setFormat(f.value)}
                  />
                  <strong>{f.title}</strong> <span class="muted">{f.hint}</span>
                  <Show when={unfit()}>
                    <span class="unfit-note" id={`unfit-${f.value}`} data-testid={`unfit-${f.value}`}>
                      {unfit()}
                    </span>
                  </Show>
                </label>
              );
            }}
          </For>
        </fieldset>
        <label>
          Images
          <select value={include()} onChange={(e) => setInclude(e.currentTarget.value as 'labeled' | 'all')}>
            <option value="labeled">Labeled images only</option>
            <option value="all">All ready images (unlabeled ones too)</option>
          </select>
        </label>
        <label>
          Labeler <span class="muted">(only this person's labels; empty: everyone's)</span>
          <input list="export-labelers" value={labeler()} maxLength={128} onInput={(e) => setLabeler(e.currentTarget.value)} />
          <datalist id="export-labelers">
            <For each={progress()?.labelers ?? []}>{(l) => <option value={l.labelerId} />}</For>
          </datalist>
        </label>
        <label class="check">
          <input type="checkbox" checked={excludeAmbiguous()} onChange={(e) => setExcludeAmbiguous(e.currentTarget.checked)} />
          Leave out labels marked ambiguous
        </label>
        <label class="check">
          <input
            type="checkbox"
            data-testid="export-images"
            checked={needsImages() || images()}
            disabled={needsImages()}
            onChange={(e) => setImages(e.currentTarget.checked)}
          />
          Include the images (turned upright where the camera stored them sideways)
        </label>
        <button type="submit" class="primary" disabled={running()}>
          {running() ? 'Exporting…' : 'Start export'}
        </button>
      </form>
      <Show when={error()}>
        <p class="error" role="alert">{error()}</p>
      </Show>
      <Show when={job()}>{(j) => <ExportProgress job={j()} />}</Show>
      <ClassifierExport projectId={props.projectId} />
    </main>
    </Show>
  );
}

/**
 * The classifier trained while labeling, to take away: one ONNX file (the embedder + the head + softmax) or the plain
 * head for features computed elsewhere. The server fits and builds it on request; a 409 says why there is none yet.
 */
function ClassifierExport(props: { projectId: string }) {
  const app = useApp();
  const [busy, setBusy] = createSignal<'onnx' | 'head'>();
  const [error, setError] = createSignal<string>();
  const [saved, setSaved] = createSignal<string>();
  async function download(format: 'onnx' | 'head') {
    setBusy(format);
    setError(undefined);
    setSaved(undefined);
    try {
      const { blob, fileName } = await app.api.classifier(props.projectId, format);
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = fileName;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      setSaved(fileName);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(undefined);
    }
  }
  return (
    <section class="card" aria-label="Trained classifier" data-testid="classifier-export">
      <h2>Trained classifier</h2>
      <p class="muted">
        The model that learned from your labels, to run anywhere: one ONNX file that takes the image tensor the embedder
        takes and outputs the class probabilities (class names and a model card with the accuracy estimate inside), or the
        plain head (weights.npy, bias.npy, classes.json) for features computed elsewhere.
      </p>
      <p>
        <button type="button" class="primary" disabled={!!busy()} onClick={() => download('onnx')}>
          {busy() === 'onnx' ? 'Preparing…' : 'Download ONNX model'}
        </button>{' '}
        <button type="button" disabled={!!busy()} onClick={() => download('head')}>
          {busy() === 'head' ? 'Preparing…' : 'Download head (.zip)'}
        </button>
      </p>
      <Show when={saved()}>
        <p role="status">Saved {saved()}.</p>
      </Show>
      <Show when={error()}>
        <p class="error" role="alert">{error()}</p>
      </Show>
    </section>
  );
}

function ExportProgress(props: { job: ExportJob }) {
  const c = () => props.job.counts;
  return (
    <section class="card" aria-label="Export progress" data-testid="export-progress">
      <p role="status">
        <strong>{STATE_TEXT[props.job.state]}</strong>{' '}
        <span class="muted">
          {c().images} images, {c().boxes} boxes, {c().labels} labels
          {c().files ? `, ${c().files} image files` : ''}
          {c().rows ? `, ${c().rows} embedding rows` : ''} · {formatBytes(props.job.bytes)}
        </span>
      </p>
      <Show when={props.job.state === 'failed'}>
        <p class="error" role="alert">{props.job.reason}</p>
      </Show>
      <Show when={props.job.state === 'done' && props.job.downloadUrl}>
        <p>
          <a class="button" href={props.job.downloadUrl} download={props.job.fileName} data-testid="export-download">
            Download {props.job.fileName}
          </a>{' '}
          <span class="muted">(link valid for a few minutes; export again for a fresh one)</span>
        </p>
      </Show>
    </section>
  );
}

const STATE_TEXT: Record<ExportJob['state'], string> = {
  queued: 'Waiting to start…',
  running: 'Exporting…',
  done: 'Done.',
  failed: 'Export failed.',
};

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${Math.max(0, n / 1024).toFixed(1)} KiB`;
}
