// Active-learning benchmark: accuracy per label budget and labels-to-target for every strategy, on any
// folder-per-class image dataset (embedded through the real pipeline, cached) or a features .npy + labels .csv.
//   npm run bench:al -- --dataset DIR [--seeds 5] [--strategies a,b] [--batch 10] [--out test-output/bench]
//   npm run bench:al -- --features X.npy --labels y.csv

import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createRng } from '../../functions/domain/learning/random.js';
import { DEFAULT_STRATEGY, isStrategy, STRATEGIES, type StrategyName } from '../../functions/domain/learning/strategies.js';
import { fullPoolAccuracy, makeTask, schedule, simulate, type Curve } from './lib/al-simulation.js';
import { numberArg, numberListArg, parseArgs, stringArg } from './lib/args.js';
import { type BenchDataset, loadFeatureDataset, loadImageDataset } from './lib/dataset.js';
import { REPO_ROOT, sharedPath } from './lib/paths.js';
import { learningCurveSvg } from './lib/svg-plot.js';
import { printTable } from './lib/table.js';

const args = parseArgs();
const budgets = numberListArg(args, 'budgets', [10, 20, 50, 100, 200, 400]);
const seeds = numberArg(args, 'seeds', 5);
const batch = numberArg(args, 'batch', 10);
const outDir = resolve(REPO_ROOT, stringArg(args, 'out') ?? 'test-output/bench');
const strategies = (stringArg(args, 'strategies')?.split(',') ?? [...STRATEGIES]).map((s) => {
  if (!isStrategy(s)) throw new Error(`unknown strategy "${s}" (known: ${STRATEGIES.join(', ')})`);
  return s;
});

async function load(): Promise<BenchDataset> {
  const features = stringArg(args, 'features');
  if (features) {
    const labels = stringArg(args, 'labels');
    if (!labels) throw new Error('--features needs --labels file.csv');
    return loadFeatureDataset(resolve(features), resolve(labels));
  }
  const dir = stringArg(args, 'dataset') ?? sharedPath('datasets/tf_flowers_dev');
  return loadImageDataset(resolve(dir), resolve(stringArg(args, 'models') ?? sharedPath('models')));
}

/** The dataset's own split, else a seeded stratified 20% test split. */
function testMask(d: BenchDataset): boolean[] {
  if (d.split) return d.split.map((s) => s === 'test');
  const rng = createRng(20240601);
  const mask = new Array<boolean>(d.labels.length).fill(false);
  for (let c = 0; c < d.classes.length; c++) {
    const members = [...d.labels.keys()].filter((i) => d.labels[i] === c).map((i) => ({ i, k: rng.next() }));
    members.sort((a, b) => a.k - b.k).slice(0, Math.round(members.length * 0.2)).forEach((m) => (mask[m.i] = true));
  }
  return mask;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const dataset = await load();
const task = makeTask(dataset.vectors, dataset.labels, dataset.classes.length, testMask(dataset));
const poolSize = task.pool.rows;
const usedBudgets = budgets.filter((b) => b <= poolSize);
const checkpoints = schedule(poolSize, usedBudgets, batch);
const full = fullPoolAccuracy(task);
const target = full - 0.02;
console.log(
  `${dataset.name}: ${dataset.classes.length} classes, ${task.pool.dim}-d, pool ${poolSize}, test ${task.test.rows} ` +
    `(${dataset.split ? 'given split' : 'seeded 20% split'}); full-pool accuracy ${(full * 100).toFixed(1)}%, target ${(target * 100).toFixed(1)}%; ` +
    `${seeds} seeds, retrain every ${batch} labels`,
);

const results = new Map<StrategyName, { mean: number[]; curves: Curve[] }>();
const meanOf = (curves: Curve[], key: 'ece' | 'meanTop' | 'accuracy', k: number) => mean(curves.map((c) => c[key][k]));
for (const strategy of strategies) {
  const curves: Curve[] = [];
  for (let seed = 0; seed < seeds; seed++) curves.push(simulate(task, strategy, seed, checkpoints));
  const meanCurve = checkpoints.map((_, k) => mean(curves.map((c) => c.accuracy[k])));
  results.set(strategy, { mean: meanCurve, curves });
  process.stderr.write(`${strategy}: ${(mean(curves.map((c) => c.ms)) / 1000).toFixed(1)} s per run\n`);
}

/** First checkpoint at or above the target; the pool size when never reached (a censored, optimistic count). */
const labelsToTarget = (curve: number[]) => {
  const k = curve.findIndex((a) => a >= target);
  return k < 0 ? poolSize : checkpoints[k];
};
const need = new Map(
  strategies.map((s) => {
    const r = results.get(s)!;
    return [s, { meanCurve: labelsToTarget(r.mean), perSeed: r.curves.map((c) => labelsToTarget(c.accuracy)) }];
  }),
);
const random = need.get('random');
const ratio = (a: number, b: number | undefined) => (b ? (a / b).toFixed(2) : '-');
const rows = strategies.map((s) => {
  const r = results.get(s)!;
  const n = need.get(s)!;
  return [
    s + (s === DEFAULT_STRATEGY ? ' (default)' : ''),
    ...usedBudgets.map((b) => (r.mean[checkpoints.indexOf(b)] * 100).toFixed(1)),
    n.meanCurve,
    ratio(n.meanCurve, random?.meanCurve),
    mean(n.perSeed).toFixed(0),
    ratio(mean(n.perSeed), random && mean(random.perSeed)),
    n.perSeed.join('/'),
  ];
});
console.log();
printTable(
  ['strategy', ...usedBudgets.map((b) => `@${b}`), 'to target', 'x random', 'seeds: mean', 'x random', 'per seed'],
  rows,
);
console.log('\nCalibration on the test split (mean over seeds): ECE = expected calibration error (10 bins); top-acc = mean top probability minus accuracy, points.');
printTable(
  ['strategy', ...usedBudgets.flatMap((b) => [`ECE@${b}`, `top-acc@${b}`])],
  strategies.map((s) => {
    const r = results.get(s)!;
    return [
      s,
      ...usedBudgets.flatMap((b) => {
        const k = checkpoints.indexOf(b);
        const ece = meanOf(r.curves, 'ece', k);
        return [Number.isNaN(ece) ? '-' : ece.toFixed(3), Number.isNaN(ece) ? '-' : ((meanOf(r.curves, 'meanTop', k) - meanOf(r.curves, 'accuracy', k)) * 100).toFixed(1)];
      }),
    ];
  }),
);
console.log(
  `\nto target: labels until the mean curve over seeds first reaches ${(target * 100).toFixed(1)}% (full pool - 2 points); ` +
    `seeds: mean of each seed's own count (a seed that never reaches it counts as the pool size).`,
);
if (results.has('random') && results.has(DEFAULT_STRATEGY)) {
  const d = results.get(DEFAULT_STRATEGY)!.mean;
  const rnd = results.get('random')!.mean;
  const beats = usedBudgets.every((b) => d[checkpoints.indexOf(b)] > rnd[checkpoints.indexOf(b)]);
  const r = need.get(DEFAULT_STRATEGY)!.meanCurve / random!.meanCurve;
  console.log(
    `default ${DEFAULT_STRATEGY}: ${beats ? 'beats' : 'does NOT beat'} random at every budget; ` +
      `needs ${r.toFixed(2)}x random's labels to reach the target (${r <= 0.6 ? 'within' : 'NOT within'} 0.6x).`,
  );
}

await mkdir(outDir, { recursive: true });
const svgPath = resolve(outDir, `al-${dataset.name}.svg`);
const series = strategies.map((s) => ({ name: s, x: checkpoints, y: results.get(s)!.mean }));
await writeFile(svgPath, learningCurveSvg(`${dataset.name}: mean test accuracy over ${seeds} seeds`, series, { target }));
await writeFile(
  resolve(outDir, `al-${dataset.name}.json`),
  JSON.stringify({ dataset: dataset.name, full, target, checkpoints, strategies: Object.fromEntries([...results].map(([s, r]) => [s, r])) }, null, 1),
);
console.log(`\nlearning curves: ${svgPath}`);
