// Retrain + rescore benchmark on synthetic embeddings (10 classes; 384-d and 1280-d; 10k, 100k, 1M samples).
// Each configuration runs in its own child process so its peak RSS is its own. The pool is held as int8 with a
// per-row scale; a fp32 copy of a labeled and an evaluation subset measures the accuracy that costs.
//   npm run bench:rank [-- --sizes 10000,100000] [--dims 384,1280] [--labels 2000]

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  createI8Embeddings,
  embeddingsFromVectors,
  type Embeddings,
  setRowI8,
} from '../../functions/domain/learning/embeddings.js';
import { kmeans } from '../../functions/domain/learning/kmeans.js';
import { createRng } from '../../functions/domain/learning/random.js';
import { scoreAll } from '../../functions/domain/learning/scoring.js';
import { clusterCount, DEFAULT_STRATEGY, rank } from '../../functions/domain/learning/strategies.js';
import { trainSoftmax } from '../../functions/domain/learning/train.js';
import { numberArg, numberListArg, parseArgs, stringArg } from './lib/args.js';
import { peakRssMiB } from './lib/memory.js';
import { printTable } from './lib/table.js';

const CLASSES = 10;
const EVAL_ROWS = 20000;

interface Result {
  size: number;
  dim: number;
  labels: number;
  generateS: number;
  train: Timing;
  iterations: number;
  retrain: Timing;
  retrainIterations: number;
  rescore: Timing;
  rank: Timing;
  cluster: Timing;
  accF32: number;
  accI8: number;
  peakMiB: number;
}

/** Class centres plus Gaussian noise; rows are drawn from a shared noise buffer at random offsets (fast, seeded). */
function synthesize(size: number, dim: number, noise: number, keepF32: number) {
  const rng = createRng(size + dim);
  const centers = Array.from({ length: CLASSES }, () => Float32Array.from({ length: dim }, () => rng.normal() / Math.sqrt(dim)));
  const buffer = Float32Array.from({ length: 1 << 22 }, () => rng.normal() * noise);
  const labels = new Int32Array(size);
  const i8 = createI8Embeddings(size, dim);
  const f32: Float32Array[] = [];
  const row = new Float32Array(dim);
  for (let i = 0; i < size; i++) {
    const c = rng.int(CLASSES);
    labels[i] = c;
    const o = rng.int(buffer.length - dim);
    const center = centers[c];
    for (let d = 0; d < dim; d++) row[d] = center[d] + buffer[o + d];
    setRowI8(i8, i, row);
    if (i < keepF32) f32.push(Float32Array.from(row));
  }
  return { labels, i8, f32: embeddingsFromVectors(f32) };
}

function accuracy(probs: Float32Array, labels: Int32Array, from: number, to: number): number {
  let ok = 0;
  for (let i = from; i < to; i++) {
    let best = 0;
    for (let c = 1; c < CLASSES; c++) if (probs[i * CLASSES + c] > probs[i * CLASSES + best]) best = c;
    if (best === labels[i]) ok++;
  }
  return ok / (to - from);
}

interface Timing {
  ms: number;
  /** CPU time of this process in the same span: what the work costs when other processes share the cores. */
  cpuMs: number;
}

function timed<T>(fn: () => T): [T, Timing] {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const value = fn();
  const used = process.cpuUsage(cpu);
  return [value, { ms: performance.now() - wall, cpuMs: (used.user + used.system) / 1000 }];
}

function runOne(size: number, dim: number, labelCount: number, noise: number): Result {
  const t0 = performance.now();
  const evalRows = Math.min(EVAL_ROWS, size - labelCount);
  const data = synthesize(size, dim, noise, labelCount + evalRows);
  const generateS = (performance.now() - t0) / 1000;
  const labels = Array.from({ length: labelCount }, (_, row) => ({
    row,
    confidences: Array.from({ length: CLASSES }, (_, c) => (c === data.labels[row] ? 1 : 0)),
  }));

  const [previous, train] = timed(() => trainSoftmax(data.i8, labels.slice(0, labelCount - 100), { classes: CLASSES })!);
  // A retrain in the product: the previous model plus the labels that came in since (here 100), warm-started.
  const [model, retrain] = timed(() => trainSoftmax(data.i8, labels, { classes: CLASSES, warmStart: previous })!);
  const [probs, rescore] = timed(() => scoreAll(model, data.i8));
  const [clustering, cluster] = timed(() => kmeans(data.i8, { k: clusterCount(size, CLASSES), seed: 1 }));
  const labeled = labels.map((l) => l.row);
  const [ranking, ranked] = timed(() => rank(DEFAULT_STRATEGY, { embeddings: data.i8, labeled, model, probs, clustering, limit: 2000 }));
  if (ranking.rows.length !== Math.min(2000, size - labelCount)) throw new Error('short ranking');

  // Same labels, fp32 rows, fp32 scoring: the reference the compact store is compared with.
  const f32Model = trainSoftmax(data.f32 as Embeddings, labels, { classes: CLASSES })!;
  const f32Probs = scoreAll(f32Model, data.f32);
  const from = labelCount;
  const to = labelCount + evalRows;
  return {
    size,
    dim,
    labels: labelCount,
    generateS,
    train,
    iterations: previous.fit.iterations,
    retrain,
    retrainIterations: model.fit.iterations,
    rescore,
    rank: ranked,
    cluster,
    accF32: accuracy(f32Probs, data.labels, from, to),
    accI8: accuracy(probs, data.labels, from, to),
    peakMiB: peakRssMiB(),
  };
}

const args = parseArgs();
const child = stringArg(args, 'child');
if (child) {
  const [size, dim, labelCount, noise] = child.split(',').map(Number);
  process.stdout.write(JSON.stringify(runOne(size, dim, labelCount, noise)));
} else {
  const sizes = numberListArg(args, 'sizes', [10000, 100000, 1000000]);
  const dims = numberListArg(args, 'dims', [384, 1280]);
  const labelCount = numberArg(args, 'labels', 2000);
  // Noise per coordinate around unit-norm class centres: chosen so a linear model lands near 90% (an accuracy
  // compact storage could visibly cost, unlike a trivially separable 100%).
  const noise = numberArg(args, 'noise', 0.28);
  const rows: (string | number)[][] = [];
  for (const size of sizes) {
    for (const dim of dims) {
      const run = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', `${size},${dim},${labelCount},${noise}`], {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      if (run.status !== 0) throw new Error(`bench child ${size}x${dim} failed (exit ${run.status})`);
      const r = JSON.parse(run.stdout) as Result;
      const total = { ms: r.retrain.ms + r.rescore.ms + r.rank.ms, cpuMs: r.retrain.cpuMs + r.rescore.cpuMs + r.rank.cpuMs };
      const t = (x: Timing) => `${x.ms.toFixed(0)}/${x.cpuMs.toFixed(0)}`;
      rows.push([
        r.size,
        r.dim,
        r.labels,
        `${t(r.train)} (${r.iterations})`,
        `${t(r.retrain)} (${r.retrainIterations})`,
        t(r.rescore),
        t(r.rank),
        t(total),
        t(r.cluster),
        (r.accF32 * 100).toFixed(2),
        (r.accI8 * 100).toFixed(2),
        ((r.accF32 - r.accI8) * 100).toFixed(2),
        r.peakMiB.toFixed(0),
      ]);
      console.error(`done ${size} x ${dim} (data generated in ${r.generateS.toFixed(1)} s)`);
    }
  }
  printTable(
    ['samples', 'dim', 'labels', 'first fit (iters)', 'retrain (iters)', 'rescore', 'rank', 'total', 'k-means*', 'acc fp32 %', 'acc int8 %', 'loss pts', 'peak RSS MiB'],
    rows,
  );
  console.log(`\ntimes are wall ms / CPU ms of the process (they differ when other processes share the cores).`);
  console.log(`store: int8 + per-row scale. first fit: cold, on labels - 100; retrain: warm-started, all labels.`);
  console.log(`rank = ${DEFAULT_STRATEGY}, top 2000. total = retrain + rescore + rank.`);
  console.log('* pool clustering, computed once per project and cached between retrains (not part of a retrain).');
}
