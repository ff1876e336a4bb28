// Owner: upload images (files or whole folders) straight to the bucket, with per-file and total progress, then
// see which images failed ingest and why.

import { createSignal, For, Show } from 'solid-js';
import { ProjectNav } from '../components/ProjectNav.js';
import { VirtualGrid } from '../components/VirtualGrid.js';
import { useApp } from '../shared/context.js';
import { filesFromDrop } from '../upload/upload.js';
import { createUploadSession } from '../upload/uploadSession.js';

const formatBytes = (n: number) =>
  n >= 1e9 ? `${(n / 1e9).toFixed(1)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.round(n / 1e3)} kB`;

export function UploadView(props: { projectId: string }) {
  const app = useApp();
  const upload = createUploadSession(app.api, props.projectId);
  const { items, skipped, running, failedImages, progress, unseen, refetchFailed, add, start, failed } = upload;
  const t = upload.totals;
  const [dragging, setDragging] = createSignal(false);
  let fileInput: HTMLInputElement | undefined;
  let folderInput: HTMLInputElement | undefined;

  async function onDrop(e: DragEvent) {
    e.preventDefault();
    setDragging(false);
    if (e.dataTransfer) await add(await filesFromDrop(e.dataTransfer));
  }

  function onPicked(e: Event & { currentTarget: HTMLInputElement }) {
    const files = Array.from(e.currentTarget.files ?? []).map((file) => ({
      name: file.webkitRelativePath || file.name,
      file,
    }));
    e.currentTarget.value = '';
    void add(files);
  }

  return (
    <main class="page" data-testid="upload-view">
      <ProjectNav projectId={props.projectId} current="upload" />
      <h1>Upload images</h1>
      <div
        class="drop-zone"
        classList={{ dragging: dragging() }}
        role="button"
        tabIndex={0}
        data-testid="drop-zone"
        onClick={() => fileInput?.click()}
        onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), fileInput?.click())}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p>
          <strong>Drop images or whole folders here</strong>
        </p>
        <p class="muted">or click to choose files · JPEG, PNG, WebP, TIFF, AVIF, GIF, BMP</p>
        <input
          ref={fileInput}
          type="file"
          multiple
          accept="image/*"
          hidden
          data-testid="file-input"
          onChange={onPicked}
        />
      </div>

      <p>
        <button type="button" data-testid="choose-folder" onClick={() => folderInput?.click()}>
          Choose a folder…
        </button>
        <input
          ref={(el) => {
            folderInput = el;
            // Not in the DOM typings: lets the picker select a whole folder (subfolders become name prefixes).
            (el as HTMLInputElement & { webkitdirectory: boolean }).webkitdirectory = true;
          }}
          type="file"
          hidden
          onChange={onPicked}
        />
      </p>

      <Show when={items().length > 0}>
        <section class="card" aria-labelledby="upload-progress-title">
          <h2 id="upload-progress-title">
            {t().done} of {t().count} uploaded
            <Show when={t().failed > 0}>
              {' '}
              · <span class="error-text">{t().failed} failed</span>
            </Show>
          </h2>
          <div
            class="bar"
            role="progressbar"
            aria-label="Upload progress"
            aria-valuemin={0}
            aria-valuemax={t().bytes}
            aria-valuenow={t().sent}
            aria-valuetext={`${formatBytes(t().sent)} of ${formatBytes(t().bytes)}`}
          >
            <span style={{ width: `${t().bytes ? ((t().sent / t().bytes) * 100).toFixed(1) : 0}%` }} />
          </div>
          <p class="muted">
            {formatBytes(t().sent)} of {formatBytes(t().bytes)}
          </p>
          <Show when={!running() && failed().length > 0}>
            <button type="button" onClick={() => void start(items())}>
              Retry {failed().length} failed
            </button>
          </Show>
          <VirtualGrid items={items()} rowHeight={36} minColumnWidth={100000} label="Files">
            {(item) => (
              <div class={`file-row ${item.state}`}>
                <span class="file-name" title={item.name}>
                  {item.name}
                </span>
                <span class="mini-bar" aria-hidden="true">
                  <span style={{ width: `${item.state === 'done' ? 100 : item.bytes ? (item.sent / item.bytes) * 100 : 0}%` }} />
                </span>
                <span class="file-state">{item.state === 'failed' ? `failed: ${item.error}` : item.state}</span>
              </div>
            )}
          </VirtualGrid>
        </section>
      </Show>

      <Show when={skipped().length > 0}>
        <section class="card">
          <h2>Skipped (not images)</h2>
          <ul class="plain">
            <For each={skipped().slice(0, 200)}>{(name) => <li>{name}</li>}</For>
          </ul>
        </section>
      </Show>

      <section class="card" aria-labelledby="ingest-title">
        <div class="section-head">
          <h2 id="ingest-title">Processing</h2>
          <button type="button" class="link" onClick={() => void refetchFailed()}>
            Refresh
          </button>
        </div>
        <Show when={progress()?.images}>
          {(counts) => (
            <p data-testid="ingest-counts">
              {counts().ready} ready · {counts().pending + unseen()} processing ·{' '}
              <span classList={{ 'error-text': counts().failed > 0 }}>{counts().failed} failed</span>
            </p>
          )}
        </Show>
        <Show when={!failedImages.loading} fallback={<p class="muted">Loading…</p>}>
          <Show when={failedImages()} fallback={<p class="muted">Ingest status is not available on this server yet.</p>}>
            {(page) => (
              <Show when={page().images.length > 0} fallback={<p class="muted">None: every processed image is ready.</p>}>
                <ul class="plain" data-testid="failed-images">
                  <For each={page().images}>
                    {(img) => (
                      <li>
                        <strong>{img.key}</strong> — {img.reason ?? 'no reason recorded'}
                      </li>
                    )}
                  </For>
                </ul>
              </Show>
            )}
          </Show>
        </Show>
      </section>
    </main>
  );
}
