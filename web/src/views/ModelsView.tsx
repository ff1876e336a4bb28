// Owner: bring your own model. Register an ONNX file (uploaded straight to the bucket, then inspected: Winnow
// proposes a manifest from the graph, which can be edited), try it on this project's photos (embedding norms and
// nearest neighbours, top classes, boxes drawn on the photos), register it, and use it here as the detector or the
// embedder (re-embedding in the background, with its cost shown first and its progress). A lazy chunk.

import { createResource, createSignal, For, onCleanup, Show } from 'solid-js';
import { ProjectNav } from '../components/ProjectNav.js';
import { useApp } from '../shared/context.js';

export interface ModelSummary {
  name: string;
  role: 'embedder' | 'classifier' | 'detector';
  sha256: string;
  bytes: number;
  classes?: number;
  msPerImage: number;
}
interface TensorInfo {
  name: string;
  dtype: string;
  shape: (number | string)[];
  dynamic: number[];
}
export interface Inspection {
  sha256: string;
  bytes: number;
  graph: { inputs: TensorInfo[]; outputs: TensorInfo[]; nodes: number; producer: string };
  proposal: { manifest: Record<string, unknown>; labels?: string[]; notes: string[] };
}
interface TrialItem {
  imageId: string;
  ms: number;
  width?: number;
  height?: number;
  embedding?: { dims: number; norm: number; neighbours: { imageId: string; similarity: number }[] };
  top?: { name: string; probability: number }[];
  boxes?: { box: [number, number, number, number]; name: string; score: number }[];
}
export interface Trial {
  role: string;
  items: TrialItem[];
  msPerImage: number;
}
interface ReembedJob {
  model: string;
  status: 'running' | 'done' | 'failed';
  total: number;
  done: number;
  skipped: number;
  reason?: string;
}
interface ProjectModels {
  embedder: string | null;
  detector: string | null;
  reembed?: ReembedJob;
  cost?: { model: string; images: number; estimatedSeconds: number };
}

const POLL_MS = 1000;

/** "from=to" lines -> class map (empty -> undefined). */
export function parseClassMap(text: string): Record<string, string> | undefined {
  const pairs = text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => l.split('=').map((s) => s.trim()));
  if (pairs.length === 0) return undefined;
  for (const p of pairs) if (p.length !== 2 || !p[0] || !p[1]) throw new Error(`class map: "${p.join('=')}" is not from=to`);
  return Object.fromEntries(pairs);
}

export function ModelsView(props: { projectId: string }) {
  const app = useApp();
  const api = app.api.models;
  const [error, setError] = createSignal<string>();
  const [busy, setBusy] = createSignal<string>();
  const [models, { refetch: refetchModels }] = createResource(() => api.list<ModelSummary>().catch((err) => (setError((err as Error).message), [])));
  const [state, { mutate: setState, refetch: refetchState }] = createResource(() => api.ofProject<ProjectModels>(props.projectId).catch(() => undefined));
  const [photos] = createResource(() => app.api.images(props.projectId, { status: 'ready', limit: 50 }).catch(() => ({ images: [] })));
  const photoOf = (imageId: string) => photos()?.images.find((i) => i.imageId === imageId);

  // Registration form.
  const [file, setFile] = createSignal<File>();
  const [name, setName] = createSignal('');
  const [role, setRole] = createSignal('');
  const [inspection, setInspection] = createSignal<Inspection>();
  const [manifestText, setManifestText] = createSignal('');
  const [labelsText, setLabelsText] = createSignal('');
  const [classMapText, setClassMapText] = createSignal('');
  const [trial, setTrial] = createSignal<Trial>();
  const [registered, setRegistered] = createSignal<string>();
  const [embedderChoice, setEmbedderChoice] = createSignal('');
  const [detectorChoice, setDetectorChoice] = createSignal('');

  let timer: ReturnType<typeof setTimeout> | undefined;
  onCleanup(() => clearTimeout(timer));
  const poll = () => {
    timer = setTimeout(async () => {
      const next = await api.ofProject<ProjectModels>(props.projectId).catch(() => undefined);
      if (next) setState(next);
      if (next?.reembed?.status === 'running') poll();
    }, POLL_MS);
  };

  async function run(what: string, work: () => Promise<void>) {
    setError(undefined);
    setBusy(what);
    try {
      await work();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(undefined);
    }
  }

  const inspect = (e: SubmitEvent) => {
    e.preventDefault();
    const chosen = file();
    if (!chosen) return setError('choose an .onnx file first');
    void run('Uploading and inspecting…', async () => {
      setInspection(undefined);
      setTrial(undefined);
      setRegistered(undefined);
      const up = await api.upload<{ upload: string; url: string; headers: Record<string, string> }>(chosen.size);
      const put = await fetch(up.url, { method: 'PUT', headers: up.headers, body: chosen });
      if (!put.ok) throw new Error(`upload failed (${put.status}): ${await put.text()}`);
      const modelName = name().trim() || chosen.name.replace(/\.onnx$/i, '').toLowerCase().replace(/[^a-z0-9._-]+/g, '-');
      const result = await api.inspect<Inspection>({ upload: up.upload, name: modelName, ...(role() ? { role: role() } : {}) });
      setInspection(result);
      setManifestText(JSON.stringify(result.proposal.manifest, null, 2));
      setLabelsText((result.proposal.labels ?? []).join('\n'));
    });
  };

  const candidate = () => {
    const labels = labelsText().split('\n').map((l) => l.trim()).filter(Boolean);
    const classMap = parseClassMap(classMapText());
    return { manifest: JSON.parse(manifestText()) as unknown, ...(labels.length ? { labels } : {}), ...(classMap ? { classMap } : {}), projectId: props.projectId };
  };
  const tryIt = () => void run('Running on this project’s photos…', async () => {
    setTrial((await api.trial<{ trial: Trial }>(candidate())).trial);
  });
  const register = () =>
    void run('Registering…', async () => {
      const res = await api.register<{ model: ModelSummary; trial: Trial }>(candidate());
      setTrial(res.trial);
      setRegistered(res.model.name);
      await refetchModels();
    });
  const useDetector = () =>
    void run('Saving…', async () => {
      await api.use(props.projectId, { detector: detectorChoice() || null });
      await refetchState();
    });
  const showCost = () => void run('Counting…', async () => {
    setState(await api.ofProject<ProjectModels>(props.projectId, embedderChoice()));
  });
  const reembed = () =>
    void run('Starting…', async () => {
      await api.use(props.projectId, { embedder: embedderChoice() });
      await refetchState();
      poll();
    });
  const ofRole = (r: ModelSummary['role']) => (models() ?? []).filter((m) => m.role === r);

  return (
    <main class="page" data-testid="models-view">
      <ProjectNav projectId={props.projectId} current="models" />
      <h1>Models</h1>
      <Show when={error()}>
        <p class="error" role="alert">{error()}</p>
      </Show>
      <Show when={busy()}>
        <p class="muted" role="status">{busy()}</p>
      </Show>

      <section class="card" aria-label="This project's models">
        <h2>This project</h2>
        <p>
          Detector: <strong data-testid="project-detector">{state()?.detector ?? 'the stack’s default'}</strong> · Embedder:{' '}
          <strong data-testid="project-embedder">{state()?.embedder ?? 'the stack’s default'}</strong>
        </p>
        <div class="row">
          <label>
            Detector for new uploads{' '}
            <select aria-label="Detector" value={detectorChoice()} onChange={(e) => setDetectorChoice(e.currentTarget.value)}>
              <option value="">the stack’s default</option>
              <For each={ofRole('detector')}>{(m) => <option value={m.name}>{m.name}</option>}</For>
            </select>
          </label>
          <button type="button" disabled={!!busy()} onClick={useDetector}>Use detector</button>
        </div>
        <div class="row">
          <label>
            Embedder{' '}
            <select aria-label="Embedder" value={embedderChoice()} onChange={(e) => setEmbedderChoice(e.currentTarget.value)}>
              <option value="">choose…</option>
              <For each={ofRole('embedder')}>{(m) => <option value={m.name}>{m.name}</option>}</For>
            </select>
          </label>
          <button type="button" disabled={!embedderChoice() || !!busy()} onClick={showCost}>What would it cost?</button>
          <Show when={state()?.cost?.model === embedderChoice() && state()?.cost}>
            {(cost) => (
              <>
                <span data-testid="reembed-cost">
                  Re-embeds {cost().images} images, about {cost().estimatedSeconds} s. Labeling goes on with the current embeddings meanwhile.
                </span>
                <button type="button" class="primary" disabled={!!busy() || state()?.reembed?.status === 'running'} onClick={reembed}>
                  Re-embed with {cost().model}
                </button>
              </>
            )}
          </Show>
        </div>
        <Show when={state()?.reembed}>
          {(job) => (
            <p data-testid="reembed-progress">
              Re-embedding with {job().model}: {job().done} / {job().total} images {job().status}
              {job().skipped ? ` (${job().skipped} skipped)` : ''}
              {job().reason ? `: ${job().reason}` : ''}
              <progress max={Math.max(job().total, 1)} value={job().done} />
            </p>
          )}
        </Show>
      </section>

      <section class="card" aria-label="Registered models">
        <h2>Registered models</h2>
        <Show when={(models() ?? []).length} fallback={<p class="muted">None yet.</p>}>
          <table>
            <thead>
              <tr><th>name</th><th>role</th><th>size</th><th>ms / image</th><th>sha256</th></tr>
            </thead>
            <tbody>
              <For each={models()}>
                {(m) => (
                  <tr>
                    <td>{m.name}</td><td>{m.role}</td><td>{(m.bytes / 1e6).toFixed(1)} MB</td><td>{m.msPerImage}</td><td><code>{m.sha256.slice(0, 12)}</code></td>
                  </tr>
                )}
              </For>
            </tbody>
          </table>
        </Show>
      </section>

      <form class="card form" aria-label="Register a model" onSubmit={inspect}>
        <h2>Register a model</h2>
        <label>
          ONNX file <input type="file" accept=".onnx" aria-label="ONNX file" onChange={(e) => setFile(e.currentTarget.files?.[0])} />
        </label>
        <label>
          Name <input aria-label="Model name" value={name()} onInput={(e) => setName(e.currentTarget.value)} placeholder="from the file name" />
        </label>
        <label>
          Role{' '}
          <select aria-label="Role" value={role()} onChange={(e) => setRole(e.currentTarget.value)}>
            <option value="">guess from the outputs</option>
            <option value="embedder">embedder</option>
            <option value="classifier">classifier</option>
            <option value="detector">detector</option>
          </select>
        </label>
        <button type="submit" class="primary" disabled={!!busy()}>Upload and inspect</button>
      </form>

      <Show when={inspection()}>
        {(ins) => (
          <section class="card" aria-label="Proposed manifest">
            <h2>What Winnow read</h2>
            <ul data-testid="graph">
              <For each={ins().graph.inputs}>{(t) => <li>input {t.name} {t.dtype} [{t.shape.join(', ')}]</li>}</For>
              <For each={ins().graph.outputs}>{(t) => <li>output {t.name} {t.dtype} [{t.shape.join(', ')}]</li>}</For>
            </ul>
            <ul class="muted">
              <For each={ins().proposal.notes}>{(n) => <li>{n}</li>}</For>
            </ul>
            <label>
              Manifest (edit if the proposal is wrong)
              <textarea aria-label="Manifest" rows={16} value={manifestText()} onInput={(e) => setManifestText(e.currentTarget.value)} />
            </label>
            <Show when={ins().proposal.labels}>
              <label>
                Class names, one per line
                <textarea aria-label="Class names" rows={6} value={labelsText()} onInput={(e) => setLabelsText(e.currentTarget.value)} />
              </label>
              <label>
                Class map onto this project (from=to per line; classes left out are dropped)
                <textarea aria-label="Class map" rows={3} value={classMapText()} onInput={(e) => setClassMapText(e.currentTarget.value)} />
              </label>
            </Show>
            <div class="row">
              <button type="button" disabled={!!busy()} onClick={tryIt}>Try on this project</button>
              <button type="button" class="primary" disabled={!!busy() || !trial()} onClick={register}>Register</button>
              <Show when={registered()}>
                <span role="status">Registered “{registered()}”.</span>
              </Show>
            </div>
          </section>
        )}
      </Show>

      <Show when={trial()}>
        {(t) => (
          <section class="card" aria-label="Trial" data-testid="trial">
            <h2>Trial: {t().msPerImage} ms per image</h2>
            <For each={t().items}>
              {(item) => (
                <figure class="trial-item">
                  <Show when={photoOf(item.imageId)?.thumbUrl}>
                    {(url) => (
                      <div style={{ position: 'relative', display: 'inline-block' }}>
                        <img src={url()} alt={item.imageId} style={{ 'max-width': '256px', display: 'block' }} />
                        <Show when={item.boxes?.length && item.width && item.height}>
                          <svg viewBox={`0 0 ${item.width} ${item.height}`} preserveAspectRatio="none" style={{ position: 'absolute', inset: '0', width: '100%', height: '100%' }}>
                            <For each={item.boxes}>
                              {(b) => (
                                <rect x={b.box[0]} y={b.box[1]} width={b.box[2] - b.box[0]} height={b.box[3] - b.box[1]} fill="none" stroke="#e4572e" stroke-width={Math.max(2, (item.width ?? 256) / 150)}>
                                  <title>{`${b.name} ${b.score}`}</title>
                                </rect>
                              )}
                            </For>
                          </svg>
                        </Show>
                      </div>
                    )}
                  </Show>
                  <figcaption data-testid="trial-item">
                    {item.imageId} · {item.ms} ms
                    <Show when={item.embedding}>
                      {(e) => (
                        <span>
                          {' '}· norm {e().norm} ({e().dims}-d) · nearest {e().neighbours.map((n) => `${n.imageId.slice(0, 8)} ${n.similarity}`).join(', ')}
                        </span>
                      )}
                    </Show>
                    <Show when={item.top}>{(top) => <span> · {top().map((c) => `${c.name} ${(c.probability * 100).toFixed(1)}%`).join(', ')}</span>}</Show>
                    <Show when={item.boxes}>{(boxes) => <span> · {boxes().length ? boxes().map((b) => `${b.name} ${b.score}`).join(', ') : 'no boxes'}</span>}</Show>
                  </figcaption>
                </figure>
              )}
            </For>
          </section>
        )}
      </Show>
    </main>
  );
}
