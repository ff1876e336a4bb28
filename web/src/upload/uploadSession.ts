// An owner's uploads on one project: the files being sent straight to the bucket (per-file and total progress,
// retry of the failed ones), and the ingest status that follows them (counts, failed images), kept current by
// polling while anything is uploading or being processed. UploadView renders it and turns drops and picks into add().

import { createResource, createSignal, onCleanup } from 'solid-js';
import type { Api } from '../api/api.js';
import { runUploads, toUploadItems, totals, xhrPut, type UploadItem } from './upload.js';

export function createUploadSession(api: Api, projectId: string) {
  const [items, setItems] = createSignal<UploadItem[]>([]);
  const [skipped, setSkipped] = createSignal<string[]>([]);
  const [running, setRunning] = createSignal(false);
  const [failedImages, { refetch: refetchFailedList }] = createResource(() =>
    api.images(projectId, { status: 'failed', limit: 200 }),
  );
  const [progress, { refetch: refetchProgress }] = createResource(() => api.progress(projectId));
  const refetchFailed = () => {
    void refetchFailedList();
    void refetchProgress();
  };
  // Images the server knows (any status), and how many it should know once ingest has seen this page's uploads:
  // an uploaded file is listed only when ingest picks it up, so "0 processing" right after an upload may just
  // mean "not seen yet".
  const known = () => {
    const i = progress()?.images;
    return i ? i.ready + i.pending + i.failed : 0;
  };
  const [expected, setExpected] = createSignal(0);
  const unseen = () => Math.max(0, expected() - known());
  let lastKnown = -1;
  let lastChange = Date.now();
  // While images are uploading or being processed, keep their status current.
  const poll = setInterval(() => {
    if (known() !== lastKnown) {
      lastKnown = known();
      lastChange = Date.now();
    }
    // A re-upload under an existing name adds no image: stop waiting for it after a quiet minute.
    if (unseen() > 0 && Date.now() - lastChange > 60_000) setExpected(known());
    if (running() || (progress()?.images?.pending ?? 0) > 0 || unseen() > 0) refetchFailed();
  }, 4000);
  onCleanup(() => clearInterval(poll));
  let frame = 0;

  // Progress events arrive many times per frame; render at most once per frame.
  function publish(list: UploadItem[]) {
    if (frame) return;
    const flush = () => {
      frame = 0;
      setItems([...list]);
    };
    frame = typeof requestAnimationFrame === 'function' ? requestAnimationFrame(flush) : (setTimeout(flush, 16) as unknown as number);
  }

  async function add(files: { name: string; file: Blob }[]) {
    const { items: fresh, skipped: notImages } = toUploadItems(files);
    setSkipped((s) => [...s, ...notImages]);
    const all = [...items(), ...fresh];
    setItems(all);
    await start(all);
  }

  async function start(all: UploadItem[]) {
    if (running()) return;
    setRunning(true);
    const before = all.filter((i) => i.state === 'done').length;
    const knownBefore = await api
      .progress(projectId)
      .then((p) => (p.images ? p.images.ready + p.images.pending + p.images.failed : known()))
      .catch(() => known());
    try {
      await runUploads(all, {
        grant: (files) => api.requestUploads(projectId, files),
        put: xhrPut,
        onUpdate: publish,
      });
    } finally {
      setItems([...all]);
      const uploaded = all.filter((i) => i.state === 'done').length - before;
      setExpected((e) => Math.max(e, knownBefore + uploaded));
      setRunning(false);
      void refetchFailed();
    }
  }


  return {
    items,
    skipped,
    running,
    failedImages,
    progress,
    /** Uploaded files ingest has not listed yet. */
    unseen,
    refetchFailed,
    add,
    start,
    totals: () => totals(items()),
    failed: () => items().filter((i) => i.state === 'failed'),
  };
}
