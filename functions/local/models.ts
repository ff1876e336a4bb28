// The models of `npm start`. When the default models are not all in the model folder (a fresh clone without the
// team's ../shared/models), the stack starts at once without them, serving images in upload order, while their
// files are fetched and verified in the background (functions/vision/model-fetch.ts). Once they arrive the
// analyzer is swapped in for the next ingest, and every image ingested without an embedding (in this run or an
// earlier one) is ingested again, so it gets its embedding, tags and boxes. Offline, the stack keeps working in upload
// order and says how to get the models.

import { rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ImageAnalyzer, Log, Stores } from '../domain/ports.js';
import { createImageAnalyzer, DEFAULT_DETECTOR, DEFAULT_TAGGER } from '../vision/analyzer.js';
import { EmbeddingReader } from '../adapters/embeddings/reader.js';
import { DEFAULT_EMBEDDER } from '../vision/embedder.js';
import { checkModels, loadManifests } from '../vision/manifest.js';
import { DEFAULT_MODELS, fetchModels } from '../vision/model-fetch.js';
import type { IngestQueue } from './ingest-queue.js';
import { reconcileUploads } from './reconcile.js';

export interface LocalModelsOptions {
  modelDir: string;
  /** The stack's data folder: a marker there remembers that images were ingested without an embedder. */
  dataDir: string;
  /** Where to fetch from instead of the public URLs (WINNOW_MODELS_MIRROR). */
  mirror?: string;
  /** Fetch what is missing in the background (default true; WINNOW_MODELS_FETCH=0 turns it off). */
  fetch?: boolean;
  log: Log;
  warn: Log;
}

export interface LocalModels {
  /** Hand this to the stack: it analyses with whatever models are loaded at the time. */
  analyzer: ImageAnalyzer;
  /** One line for the start-up banner. */
  describe(): string;
  /** Starts the background work once the stack runs (fetch, swap, re-ingest). */
  attach(stack: { stores: Stores; ingest: IngestQueue }): void;
  /** Settles when the background fetch and re-ingest are done (or were not needed). */
  readonly settled: Promise<void>;
}

const MARKER = 'ingested-without-embedder';

export async function prepareLocalModels(opts: LocalModelsOptions): Promise<LocalModels> {
  const manifests = await loadManifests();
  const wanted = [...DEFAULT_MODELS].map((name) => manifests.get(name)!);
  const check = await checkModels(opts.modelDir, { manifests: wanted });
  const complete = check.missing.length === 0 && check.corrupt.length === 0;
  const fetching = !complete && opts.fetch !== false;

  let current: ImageAnalyzer;
  if (fetching) {
    // Start with the models that are there; the rest (a damaged file included) is fetched and verified.
    const ok = (name: string) => (check.usable.includes(name) ? name : null);
    current = await createImageAnalyzer({ modelDir: opts.modelDir, embedder: ok(DEFAULT_EMBEDDER), tagger: ok(DEFAULT_TAGGER), detector: ok(DEFAULT_DETECTOR) });
    for (const m of check.missing) opts.warn(`model missing: ${m.message}`);
    for (const c of check.corrupt) opts.warn(`model damaged: ${c.message}`);
    opts.log(`models: fetching what is missing into ${opts.modelDir}${opts.mirror ? ` from ${opts.mirror}` : ''}; until then images are served in upload order`);
  } else {
    current = await createImageAnalyzer({ modelDir: opts.modelDir }); // a damaged file stops start-up
    for (const line of current.status().missing) opts.warn(`model missing: ${line}`);
  }

  const marker = path.join(opts.dataDir, MARKER);
  let markerWritten = false;
  // Analyses running without an embedder: the re-ingest pass waits for them, so that it sees their images.
  let withoutEmbedder = 0;
  const noneWithout: (() => void)[] = [];
  const analyzer: ImageAnalyzer = {
    async analyze(bytes, analyzeOpts) {
      const using = current;
      const lacking = !using.status().embedder;
      if (lacking) withoutEmbedder++;
      try {
        const analysis = await using.analyze(bytes, analyzeOpts);
        if (!analysis.embedding && !markerWritten) {
          markerWritten = true;
          await writeFile(marker, `${new Date().toISOString()}\n`).catch(() => undefined);
        }
        return analysis;
      } finally {
        if (lacking && --withoutEmbedder === 0) for (const resolve of noneWithout.splice(0)) resolve();
      }
    },
    // While the embedder is on its way, the stack is wired for it (embedding shards, trainer), so that it
    // needs no restart when it arrives.
    status: () => {
      const s = current.status();
      return { ...s, embedder: s.embedder ?? (fetching ? DEFAULT_EMBEDDER : undefined) };
    },
  };

  let attached: (stack: { stores: Stores; ingest: IngestQueue }) => void = () => undefined;
  const settled = new Promise<void>((resolve) => {
    attached = (stack) => {
      void background(stack).catch((err) => opts.warn(`models: ${(err as Error).message}`)).finally(resolve);
    };
  });

  async function background(stack: { stores: Stores; ingest: IngestQueue }): Promise<void> {
    if (fetching) {
      const report = await fetchModels({ modelDir: opts.modelDir, mirror: opts.mirror, log: (line) => opts.log(`models: ${line}`) });
      if (report.failed.length > 0) {
        opts.warn(
          `models: could not get ${report.failed.map((f) => f.file).join(', ')} (${report.failed.map((f) => `${f.file}: ${f.reason}`).join('; ')}). ` +
            'Winnow keeps working without them: images are stored and served in upload order. ' +
            `When online, run \`npm run models:fetch\` (or start again); images ingested meanwhile are analysed then.`,
        );
      }
      if (report.usable.length === 0) return;
      const got = (name: string) => (report.usable.includes(name) ? name : null);
      const next = await createImageAnalyzer({ modelDir: opts.modelDir, embedder: got(DEFAULT_EMBEDDER), tagger: got(DEFAULT_TAGGER), detector: got(DEFAULT_DETECTOR) });
      current = next;
      const s = next.status();
      opts.log(`models: ready (embedder: ${s.embedder ?? 'none'}, detector: ${s.detector ?? 'none'}); new uploads are analysed with them`);
    }
    const embedder = current.status().embedder;
    if (embedder && (await stat(marker).then(() => true, () => false))) {
      // Ingests that analysed without the embedder finish first (their records are then ready), or at most 30 s pass.
      if (withoutEmbedder > 0) await new Promise<void>((resolve) => noneWithout.push(resolve));
      await Promise.race([stack.ingest.idle(), new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
      const queued = await reingestUnembedded(stack, embedder, opts.log);
      await rm(marker, { force: true });
      markerWritten = false;
      if (queued) opts.log(`models: ingesting again ${queued} image(s) that were stored without an embedding`);
    }
  }

  return {
    analyzer,
    describe: () => {
      const s = current.status();
      const pending = fetching && !s.embedder ? ' (fetching the default models in the background)' : '';
      return `${opts.modelDir} (embedder: ${s.embedder ?? 'none'}, detector: ${s.detector ?? 'none'})${pending}`;
    },
    attach: (stack) => attached(stack),
    settled,
  };
}

/**
 * Marks every ready image whose whole-image embedding is not among the project's embedding shards as pending and
 * queues it: ingest then analyses it again (samples and labels are kept; new box samples are added).
 */
async function reingestUnembedded(stack: { stores: Stores; ingest: IngestQueue }, embedder: string, log: Log): Promise<number> {
  const { stores } = stack;
  let queued = 0;
  for (const project of await stores.projects.list()) {
    // A project fed with imported features (another model) is not re-embedded here.
    if (project.embedding?.model && project.embedding.model !== embedder) continue;
    const embedded = new Set((await new EmbeddingReader(stores.blobs, project.id, embedder).load()).sampleIds);
    let marked = 0;
    let cursor: string | undefined;
    do {
      const page = await stores.samples.listImages(project.id, { cursor, limit: 500 });
      for (const image of page.items) {
        if (image.status !== 'ready' || embedded.has(image.imageId)) continue;
        await stores.samples.putImage({ ...image, status: 'pending', updatedAt: new Date(stores.clock.now()).toISOString() });
        marked++;
      }
      cursor = page.cursor;
    } while (cursor);
    if (marked) queued += await reconcileUploads(stores, stack.ingest, log, `uploads/${project.id}/`);
  }
  return queued;
}
