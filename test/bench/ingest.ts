// Ingest benchmark: images/s through the real local stack (S3 upload -> event -> sharp + ONNX -> DynamoDB/S3),
// time per stage, and beside it in the same process the floor (the same ONNX sessions on pre-made tensors), for
// embed-only and embed+detect projects; peak RSS, the Lambda memory it implies, and cold start.
//   npm run bench:ingest -- [--dataset DIR] [--limit N] [--models DIR] [--modes embed,detect]
//                           [--concurrency 8] [--upload-concurrency 8] [--warm-images 100] [--out test-output/bench]
//                           [--sharp-threads N] [--with-trainer] [--no-cold-start] [--profile] [--plain-images 300]
//                           [--ingest-in-process]
// Right before and right after each end-to-end run, the analyzer alone runs on the same images (no storage), and once
// a plain script a user might write (decode, resize, embed in a loop): the headline is end to end / analyzer alone
// (both of its runs together; target >= 0.7x).
// Ingest runs on the stack's ingest thread (functions/local/ingest-thread.ts); --ingest-in-process runs it on the
// main thread instead, as before, to compare.
// --profile writes a CPU profile of the stack's main thread per mode (<out>/ingest-<mode>.cpuprofile), and of the
// analyzer alone (<out>/analyzer-alone-<mode>.cpuprofile), and prints where the main thread's time went in each.

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { DEFAULT_INGEST_CONCURRENCY } from '../../functions/ingest/handler.js';
import { createImageAnalyzer } from '../../functions/vision/analyzer.js';
import { loadManifests } from '../../functions/vision/manifest.js';
import { tempDir } from '../support/stack.js';
import { numberArg, parseArgs, stringArg } from './lib/args.js';
import { bundleColdStartChild, measureColdStart, type ColdStart } from './lib/cold-start.js';
import { evenSubset, listDatasetImages, stageImages } from './lib/dataset-images.js';
import { measureFloor, premadeTensors, sharedRunner } from './lib/inference-floor.js';
import { startCpuProfile } from './lib/cpu-profile.js';
import { cpuSince, cpuSnapshot } from './lib/cpu-breakdown.js';
import { analyzerAlone, bothRuns, plainScript } from './lib/ingest-baselines.js';
import { ingestProfileSummary } from './lib/ingest-profile.js';
import { runIngest } from './lib/ingest-run.js';
import { formatIngestReport, stageFigures, type ModeReport } from './lib/ingest-report.js';
import { lambdaMemoryForCpus, lambdaMemoryMb } from './lib/lambda-memory.js';
import { peakRssMiB } from './lib/memory.js';
import { REPO_ROOT, sharedPath } from './lib/paths.js';
import { StageTimes } from './lib/stage-times.js';

const MODES = { embed: false, detect: true } as const;
type Mode = keyof typeof MODES;

const args = parseArgs();
const datasetDir = path.resolve(stringArg(args, 'dataset') ?? sharedPath('datasets/tf_flowers_dev'));
const modelDir = path.resolve(stringArg(args, 'models') ?? sharedPath('models'));
const manifestDir = path.join(REPO_ROOT, 'models');
const limit = numberArg(args, 'limit', Number.POSITIVE_INFINITY);
const ingestConcurrency = numberArg(args, 'concurrency', DEFAULT_INGEST_CONCURRENCY); // the local stack's default
const uploadConcurrency = numberArg(args, 'upload-concurrency', 8);
const warmImages = numberArg(args, 'warm-images', 100);
const withTrainer = args['with-trainer'] === true;
const coldStart = args['no-cold-start'] !== true;
const profile = args.profile === true;
const ingestInProcess = args['ingest-in-process'] === true;
const plainImages = numberArg(args, 'plain-images', 300);
if (!(Number.isInteger(plainImages) && plainImages >= 1)) throw new Error(`--plain-images must be a whole number of at least 1 (the table compares against the plain script), not ${plainImages}`);
const outDir = path.resolve(REPO_ROOT, stringArg(args, 'out') ?? 'test-output/bench');
const modes = (stringArg(args, 'modes') ?? 'embed,detect').split(',').map((m) => {
  if (!(m in MODES)) throw new Error(`unknown mode "${m}" (known: ${Object.keys(MODES).join(', ')})`);
  return m as Mode;
});
if (args['sharp-threads'] !== undefined) sharp.concurrency(numberArg(args, 'sharp-threads', 0));

const loadAtStart = os.loadavg();
const rels = evenSubset(await listDatasetImages(datasetDir), limit);
if (rels.length === 0) throw new Error(`no images in ${datasetDir}`);
const classes = [...new Set(rels.map((r) => (r.includes('/') ? r.slice(0, r.indexOf('/')) : 'image')))].sort();
const uploadDir = await tempDir('bench-upload');
await stageImages(datasetDir, rels, uploadDir);
const log = (line: string) => process.stderr.write(`${line}\n`);
log(`${path.basename(datasetDir)}: ${rels.length} images, ${classes.length} classes; ${os.cpus().length} CPUs, sharp threads ${sharp.concurrency()}, ingest concurrency ${ingestConcurrency}`);

// Cold starts first, while this process is idle.
await mkdir(outDir, { recursive: true });
const bundle = await bundleColdStartChild(outDir);
const coldStarts: Partial<Record<Mode, ColdStart>> = {};
for (const mode of coldStart ? modes : []) {
  log(`cold start (${mode}): fresh process, analyzer, first image, then ${warmImages} more`);
  coldStarts[mode] = await measureColdStart(bundle, {
    modelDir,
    manifestDir,
    images: evenSubset(rels, warmImages + 1).map((r) => path.join(datasetDir, r)),
    detect: MODES[mode],
    concurrency: ingestConcurrency,
  });
}

const times = new StageTimes();
const analyzer = await createImageAnalyzer({ modelDir, manifestDir, onStage: (stage, ms) => times.record(`analyze.${stage}`, ms) });
const status = analyzer.status();
if (!analyzer.embedder) throw new Error(`the embedder is missing: ${status.missing.join('; ')}`);
const manifests = await loadManifests(manifestDir);
const embedRunner = await sharedRunner(analyzer.embedder.manifest, modelDir);
const detectRunner = status.detector ? await sharedRunner(manifests.get(status.detector)!, modelDir) : undefined;
const sampleBytes = await Promise.all(rels.slice(0, 16).map(async (r) => new Uint8Array(await readFile(path.join(datasetDir, r)))));
const tensors = await premadeTensors({ embedder: analyzer.embedder, embedRunner, detector: detectRunner && { runner: detectRunner } }, sampleBytes);
// Warm the sessions and sharp before anything is timed.
await analyzer.analyze(sampleBytes[0], { detect: true });

const reports: (ModeReport & { summary?: ReturnType<typeof stageFigures> })[] = [];
for (const mode of modes) {
  if (MODES[mode] && !detectRunner) {
    log(`skipping ${mode}: the detector is missing (${status.missing.join('; ')})`);
    continue;
  }
  // The analyzer alone runs right before and right after the end-to-end run, and the ratio is taken against both
  // together: on a shared machine the load drifts over minutes, and one side alone would carry that drift.
  const files = rels.map((r) => path.join(datasetDir, r));
  log(`analyzer alone, before (${mode}): the same ${rels.length} images, ${ingestConcurrency} at once, no storage`);
  const aloneBefore = await analyzerAlone(analyzer, files, { detect: MODES[mode], concurrency: ingestConcurrency });
  log(`end to end (${mode}): ${rels.length} images through the local stack`);
  const before = { embed: { ...embedRunner.stats }, detect: { ...(detectRunner?.stats ?? { runs: 0, items: 0, busyMs: 0 }) } };
  const run = await runIngest({
    analyzer,
    uploadDir,
    images: rels.length,
    classes,
    detect: MODES[mode],
    ingestConcurrency,
    uploadConcurrency,
    withTrainer,
    times,
    ingestInProcess,
    ...(profile ? { profileFile: path.join(outDir, `ingest-${mode}.cpuprofile`) } : {}),
    beforeUpload: () => {
      Object.assign(before.embed, embedRunner.stats);
      if (detectRunner) Object.assign(before.detect, detectRunner.stats);
    },
  });
  const stages = times.snapshot();
  const delta = (now: typeof before.embed, then: typeof before.embed) => ({
    runs: now.runs - then.runs,
    items: now.items - then.items,
    busyMs: now.busyMs - then.busyMs,
  });
  const embedRuns = delta(embedRunner.stats, before.embed);
  const detectRuns = detectRunner ? delta(detectRunner.stats, before.detect) : { runs: 0, items: 0, busyMs: 0 };
  log(`analyzer alone, after (${mode}): the same ${rels.length} images, ${ingestConcurrency} at once, no storage`);
  const aloneProfile = profile ? await startCpuProfile() : undefined;
  const aloneKindsBefore = cpuSnapshot();
  const aloneAfter = await analyzerAlone(analyzer, files, { detect: MODES[mode], concurrency: ingestConcurrency });
  const aloneByKind = cpuSince(aloneKindsBefore, cpuSnapshot());
  const aloneProfiled = await aloneProfile?.stop(path.join(outDir, `analyzer-alone-${mode}.cpuprofile`));
  log(`floor (${mode}): ${embedRuns.items} embeddings and ${detectRuns.items} detector runs on pre-made tensors`);
  const floor = await measureFloor(
    { embedder: analyzer.embedder, embedRunner, detector: detectRunner && { runner: detectRunner } },
    tensors,
    { embeddings: embedRuns.items, detections: detectRuns.items },
    modelDir,
  );
  reports.push({
    mode,
    detect: MODES[mode],
    images: rels.length,
    run,
    stages,
    embedRuns,
    detectRuns,
    floor,
    analyzerAlone: {
      ...bothRuns(aloneBefore, aloneAfter),
      ...(aloneProfiled ? { mainThread: ingestProfileSummary(aloneProfiled) } : {}),
      ...(aloneByKind ? { cpuByKind: aloneByKind } : {}),
    },
    analyzerAloneRuns: [aloneBefore, aloneAfter],
    peakRssMiB: peakRssMiB(),
  });
}
const plainRels = evenSubset(rels, plainImages);
log(`plain script: decode, resize, embed ${plainRels.length} images in a loop`);
const plain = await plainScript(analyzer.embedder.manifest, modelDir, plainRels.map((r) => path.join(datasetDir, r)));
await rm(uploadDir, { recursive: true, force: true });

for (const report of reports) report.summary = stageFigures(report, coldStarts[report.mode as Mode]);
const workerPeak = Math.max(0, ...Object.values(coldStarts).map((c) => c?.peakRssMiB ?? 0));
const stackPeak = peakRssMiB();
const memory = {
  stackProcessPeakRssMiB: stackPeak,
  workerPeakRssMiB: workerPeak,
  headroom: 0.25,
  lambdaMemoryMb: lambdaMemoryMb(workerPeak),
  lambdaMemoryMbFromStackProcess: lambdaMemoryMb(stackPeak),
  lambdaMemoryMbForSameCpus: lambdaMemoryForCpus(os.cpus().length),
};
const result = {
  dataset: datasetDir,
  images: rels.length,
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version, sharpThreads: sharp.concurrency() },
  settings: { ingestConcurrency, uploadConcurrency, warmImages, withTrainer, ingestOnThread: !ingestInProcess, models: status },
  modes: reports,
  plainScript: plain,
  load: { start: loadAtStart, end: os.loadavg() },
  coldStarts,
  memory,
  finishedAt: new Date().toISOString(),
};
console.log(formatIngestReport(result));
const jsonPath = path.join(outDir, 'ingest.json');
await writeFile(jsonPath, JSON.stringify(result, null, 2));
log(`figures written to ${path.relative(REPO_ROOT, jsonPath)}`);
