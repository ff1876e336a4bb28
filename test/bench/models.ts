// Custom-model benchmark: what bringing a model costs, on the in-memory stores (no emulator in the figures).
//   inspect     parse the ONNX graph, load it once in a child process, propose a manifest (YOLOX-Nano, 3.7 MB)
//   trial       the same model on N photos in a fresh child process (spawn + load + runs), and per image in the model
//   first use   a registered model fetched from the bucket into the local cache, sha256 checked, session opened
//   analyze     whole analysis per photo (decode, copies, embed, detect) with the shipped YOLOX vs the same file
//               registered under another name (should match: same runner code)
//   re-embed    a project of N photos re-embedded with a generated 64-d embedder (the background job, end to end)
//   npm run bench:models [-- --photos 24]

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { imageIdFor } from '../../functions/domain/ingest.js';
import { MODEL_LAYOUT, type RegisteredModel } from '../../functions/domain/models.js';
import { createImageAnalyzer } from '../../functions/vision/analyzer.js';
import { createModelLab } from '../../functions/vision/model-lab.js';
import { reembedIdle, readReembedJob } from '../../functions/vision/reembed.js';
import { labelsFile, ModelRegistry, registryAnalyzer } from '../../functions/vision/registry.js';
import { tinyEmbedder } from '../models/onnx-builder.js';
import { FLOWERS, MODELS } from '../support/paths.js';
import { tempDir } from '../support/stack.js';
import { numberArg, parseArgs } from './lib/args.js';
import { printTable } from './lib/table.js';

const args = parseArgs();
const photoCount = numberArg(args, 'photos', 24);
const log = (line: string) => process.stderr.write(`${line}\n`);
const sha = async (bytes: Uint8Array) => (await import('node:crypto')).createHash('sha256').update(bytes).digest('hex');
const ms = (t0: number) => Math.round(performance.now() - t0);

const files: string[] = [];
for (const cls of ['daisy', 'tulips', 'roses', 'sunflowers', 'dandelion']) {
  for (const f of (await readdir(path.join(FLOWERS, cls))).filter((n) => n.endsWith('.jpg')).slice(0, Math.ceil(photoCount / 5))) files.push(`${cls}/${f}`);
}
const photos = await Promise.all(files.slice(0, photoCount).map(async (f) => ({ name: f, bytes: new Uint8Array(await readFile(path.join(FLOWERS, f))) })));
const stores = createMemoryStores();
const registry = new ModelRegistry(stores.blobs, await tempDir('bench-models-cache'));
const lab = createModelLab({ stores, registry, timeoutMs: 60_000 });
const rows: (string | number)[][] = [];

// inspect
const yolox = new Uint8Array(await readFile(path.join(MODELS, 'yolox_nano.onnx')));
const yoloxSha = await sha(yolox);
let t = performance.now();
const inspected = await lab.inspect(yolox, { name: 'bench-detector', sha256: yoloxSha });
rows.push(['inspect YOLOX-Nano (parse, load, propose)', 1, ms(t), '']);
await stores.blobs.put(MODEL_LAYOUT.file(yoloxSha), yolox, 'application/octet-stream');

// trial
const labels = inspected.proposal.labels!;
const trialImages = photos.slice(0, 4).map((p) => ({ imageId: imageIdFor(p.name), bytes: p.bytes }));
t = performance.now();
const { manifest, trial } = await lab.trial({ manifest: inspected.proposal.manifest, labels }, trialImages, { projectId: 'bench' });
rows.push(['trial YOLOX-Nano (spawn, load, run)', trialImages.length, ms(t), trial.msPerImage]);

// first use of a registered model
const labelsBlob = labelsFile(labels);
await stores.blobs.put(MODEL_LAYOUT.labels(labelsBlob.entry.sha256), labelsBlob.bytes, 'application/json');
const record: RegisteredModel = {
  name: 'bench-detector', role: 'detector', sha256: yoloxSha, bytes: yolox.byteLength, manifest, labels, trial, registeredAt: new Date().toISOString(), registeredBy: 'bench',
};
await stores.blobs.put(MODEL_LAYOUT.record(record.name), new TextEncoder().encode(JSON.stringify(record)), 'application/json');
t = performance.now();
await registry.detector(record);
rows.push(['first use: fetch, sha256 check, open session', 1, ms(t), '']);

// analyze: shipped vs registered detector
const base = await createImageAnalyzer({ modelDir: MODELS });
const analyzer = registryAnalyzer(base, registry);
await base.analyze(photos[0].bytes, { detect: true }); // warm
await analyzer.analyze(photos[0].bytes, { detect: true, detector: 'bench-detector' });
for (const [what, detector] of [['analyze, shipped YOLOX', undefined], ['analyze, registered YOLOX', 'bench-detector']] as const) {
  t = performance.now();
  for (const p of photos) await analyzer.analyze(p.bytes, { detect: true, ...(detector ? { detector } : {}) });
  const total = ms(t);
  rows.push([`${what} (one at a time)`, photos.length, total, (total / photos.length).toFixed(1)]);
}

// re-embed
const now = new Date().toISOString();
await stores.projects.create({ id: 'bench', name: 'bench', classes: ['a', 'b'], taskType: 'single-label', confidenceLevels: [0, 1], allowAmbiguous: false, strategy: 'uncertainty', overlap: 1, createdAt: now, createdBy: 'bench', version: 1 });
for (const p of photos) {
  const key = `uploads/bench/${p.name}`;
  await stores.blobs.put(key, p.bytes, 'image/jpeg');
  await stores.samples.putImage({ projectId: 'bench', imageId: imageIdFor(key), key, etag: 'e', bytes: p.bytes.byteLength, status: 'ready', order: `${now}|${p.name}`, createdAt: now, updatedAt: now });
}
const tiny = tinyEmbedder(64, 32);
const tinySha = await sha(tiny);
await stores.blobs.put(MODEL_LAYOUT.file(tinySha), tiny, 'application/octet-stream');
const tinyInspected = await lab.inspect(tiny, { name: 'tiny64', sha256: tinySha, role: 'embedder' });
const tinyTrial = await lab.trial({ manifest: tinyInspected.proposal.manifest }, [], { synthetic: true });
const tinyRecord: RegisteredModel = { ...record, name: 'tiny64', role: 'embedder', sha256: tinySha, bytes: tiny.byteLength, manifest: tinyTrial.manifest, labels: undefined, trial: tinyTrial.trial };
t = performance.now();
await lab.startReembed('bench', tinyRecord, 'bench');
await reembedIdle('bench');
const job = await readReembedJob(stores, 'bench');
const total = ms(t);
if (job?.status !== 'done') throw new Error(`re-embed ended ${job?.status}: ${job?.reason}`);
rows.push(['re-embed job, 64-d generated embedder', job.done, total, (total / job.done).toFixed(1)]);

log(`${photos.length} photos from tf_flowers_dev; memory stores; times are wall clock on this machine`);
printTable(['step', 'images', 'ms in all', 'ms per image'], rows);
process.exit(0);
