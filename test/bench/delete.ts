// Deletion benchmark: a synthetic project (default 10k images, each with an image sample and one box sample,
// labels, one annotation per sample, an original and a thumbnail per image, 1280-d embedding shards) in dynalite
// and the S3 emulator (the local stack's emulators), then the deletion jobs of functions/domain/deletion.ts run
// against the AWS adapters: a selection of images, one labeler's work, the cloud's retention sweep queuing the rest's
// originals (the invocation's own work; the job runs in slices elsewhere), and the whole project. Prints a table.
//   npm run bench -- delete [--images 10000] [--selection 200] [--dims 1280]

import { rm } from 'node:fs/promises';
import { DEFAULT_TABLE_NAMES } from '../../functions/adapters/aws/schema.js';
import { mapBounded } from '../../functions/domain/concurrency.js';
import { runDeletion, startImageDeletion, startLabelerDeletion, startProjectDeletion } from '../../functions/domain/deletion.js';
import { DAY_MS, sweepRetention } from '../../functions/domain/retention.js';
import type { Annotation, Sample } from '../../functions/domain/model.js';
import { allPages } from '../support/pages.js';
import { tempDir } from '../support/stack.js';
import { startEmulatedStores } from './lib/emulated-stores.js';
import { numberArg, parseArgs } from './lib/args.js';
import { seedExportProject } from './lib/export-seed.js';
import { printTable } from './lib/table.js';
import { shardEmbeddings } from '../../functions/adapters/embeddings/store.js';

const args = parseArgs();
const images = numberArg(args, 'images', 10_000);
const selection = numberArg(args, 'selection', 200);
const dims = numberArg(args, 'dims', 1280);
const PROJECT = 'bench';
const log = (line: string) => process.stderr.write(`${line}\n`);

const dataDir = await tempDir('bench-delete');
const emulated = await startEmulatedStores(dataDir);
const { stores } = emulated;

/** Time spent in each store method (summed over concurrent calls), to see where a deletion's time goes. */
const spent = new Map<string, { calls: number; ms: number }>();
function timedStore<T extends object>(name: string, store: T): T {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return async (...callArgs: unknown[]) => {
        const t0 = performance.now();
        try {
          return await value.apply(target, callArgs);
        } finally {
          const key = `${name}.${String(prop)}`;
          const entry = spent.get(key) ?? { calls: 0, ms: 0 };
          entry.calls++;
          entry.ms += performance.now() - t0;
          spent.set(key, entry);
        }
      };
    },
  });
}
const timedBlobs = timedStore('blobs', stores.blobs);
const measured = {
  ...stores,
  projects: timedStore('projects', stores.projects),
  samples: timedStore('samples', stores.samples),
  annotations: timedStore('annotations', stores.annotations),
  labelers: timedStore('labelers', stores.labelers),
  rankings: timedStore('rankings', stores.rankings),
  blobs: timedBlobs,
  // The shard rewrites go through the timed bucket too, so their object calls count under blobs as the rest.
  embeddings: timedStore('embeddings', shardEmbeddings(timedBlobs)),
};

const rows: (string | number)[][] = [];
async function timed(what: string, items: () => Promise<number>, run: () => Promise<unknown>) {
  const t0 = performance.now();
  await run();
  const seconds = (performance.now() - t0) / 1000;
  const n = await items();
  rows.push([what, n, seconds.toFixed(1), (n / seconds).toFixed(0)]);
  log(`${what}: ${n} items in ${seconds.toFixed(1)} s`);
}

try {
  const t0 = performance.now();
  log(`seeding ${images} images into ${dataDir}`);
  await seedExportProject(stores, {
    projectId: PROJECT, samples: images * 2, boxesPerImage: 1, classes: ['daisy', 'dandelion', 'roses'],
    dims, model: 'bench-embedder', shardRows: 4096, samplesTable: DEFAULT_TABLE_NAMES.samples, log,
  });
  const samples: Sample[] = await allPages((cursor) => stores.samples.listSamples(PROJECT, { cursor, limit: 1000 }));
  const records = await allPages((cursor) => stores.samples.listImages(PROJECT, { cursor, limit: 1000 }));
  const tiny = new Uint8Array(2048);
  await mapBounded(records, 32, async (image) => {
    await stores.blobs.put(image.key, tiny, 'image/jpeg');
    await stores.blobs.put(`derived/${PROJECT}/${image.imageId}/thumb.webp`, tiny, 'image/webp');
  });
  await mapBounded(samples, 32, async (s) => {
    const a: Annotation = {
      projectId: PROJECT, sampleId: s.sampleId, version: 0, kind: 'label', labelerId: s.label!.labelerId,
      confidences: s.label!.confidences, ambiguous: false, before: { labeledBy: [] }, requestId: `seed-${s.sampleId}`, at: s.label!.at,
    };
    await stores.annotations.append(a);
  });
  log(`seeded in ${((performance.now() - t0) / 1000).toFixed(0)} s: ${records.length} images, ${samples.length} samples`);

  const chosen = records.slice(0, selection).map((i) => i.imageId);
  const jobStores = measured;
  await timed(`images: a selection of ${selection} (job: resolve, hide, sweep, embedding rows)`, async () => selection, async () => {
    const job = await startImageDeletion(jobStores, PROJECT, { imageIds: chosen }, 'bench');
    await runDeletion(jobStores, PROJECT, job.jobId);
  });
  const bobs = samples.filter((s) => s.label?.labelerId === 'bob' && !chosen.includes(s.imageId)).length;
  await timed(`one labeler's work (${bobs} labeled samples)`, async () => bobs, async () => {
    const job = await startLabelerDeletion(jobStores, PROJECT, 'bob', 'bench');
    await runDeletion(jobStores, PROJECT, job.jobId);
  });
  // Retention in the cloud: what the invocation that sweeps does for the images an old export held (it writes their
  // deletion job and queues it; the job is left queued here, and the project deletion below sweeps its record).
  const project = await stores.projects.get(PROJECT);
  // Straight into the table: the seed's project has a strategy editProject no longer takes.
  await stores.projects.update({ ...project!, retention: { originalsDaysAfterExport: 7 } }, project!.version);
  const exportedAt = new Date(Date.now() - 10 * DAY_MS).toISOString();
  const status = { exportId: 'bench-retention', state: 'done', createdAt: exportedAt, startedAt: exportedAt, finishedAt: exportedAt, updatedAt: exportedAt, request: {} };
  await stores.blobs.put(`exports/${PROJECT}/bench-retention/status.json`, new TextEncoder().encode(JSON.stringify(status)), 'application/json');
  let queued = 0;
  await timed('retention sweep, cloud (queues the originals\' deletion job)', async () => queued, async () => {
    const [swept] = await sweepRetention(jobStores, { runner: { start: async () => undefined } });
    queued = swept?.originalsQueued ?? 0;
  });
  const before = (await allPages((cursor) => stores.blobs.list('', { cursor }))).length;
  let swept = 0;
  await timed(`whole project (${records.length - selection} images: table items + objects)`, async () => swept, async () => {
    const job = await startProjectDeletion(jobStores, PROJECT, 'Export benchmark', 'bench');
    const done = await runDeletion(jobStores, PROJECT, job.jobId);
    swept = done.progress.done;
  });
  const left = (await allPages((cursor) => stores.blobs.list('', { cursor }))).length;
  log(`objects before the project deletion: ${before}, after: ${left}`);
  printTable(['deletion (dynalite + s3rver, one process)', 'items', 'seconds', 'items/s'], rows);
  console.log('');
  const calls = [...spent].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12);
  printTable(['store call (all jobs above)', 'calls', 'seconds in calls (summed)', 'ms/call'], calls.map(([k, v]) => [k, v.calls, (v.ms / 1000).toFixed(1), (v.ms / v.calls).toFixed(1)]));
} finally {
  await emulated.close();
  await rm(dataDir, { recursive: true, force: true });
}
