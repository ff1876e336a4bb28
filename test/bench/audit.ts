// The accuracy estimate against the truth: labeling sessions with the audit stream simulated on a dataset with a
// test split (tf_flowers_dev by default, embedded through the real pipeline, cached), several seeds; per label count,
// how far each estimator is from the model's true test accuracy and how often its 95% interval covers it.
//   npm run bench:audit -- [--dataset DIR] [--seeds 10] [--rate 0.1] [--batch 4] [--checkpoints 50,100,150,200] [--strategy NAME]

import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { makeTask } from './lib/al-simulation.js';
import { type AuditCheckpoint, type EstimatePick, estimateSummary, simulateAuditSession } from './lib/audit-simulation.js';
import { numberArg, numberListArg, parseArgs, stringArg } from './lib/args.js';
import { loadImageDataset } from './lib/dataset.js';
import { REPO_ROOT, sharedPath } from './lib/paths.js';
import { printTable } from './lib/table.js';
import { DEFAULT_STRATEGY, isStrategy, STRATEGIES } from '../../functions/domain/learning/strategies.js';

const args = parseArgs();
const seeds = numberArg(args, 'seeds', 10);
const rate = numberArg(args, 'rate', 0.1);
const batch = numberArg(args, 'batch', 4);
const checkpoints = numberListArg(args, 'checkpoints', [50, 100, 150, 200]);
const strategyArg = stringArg(args, 'strategy') ?? DEFAULT_STRATEGY;
if (!isStrategy(strategyArg)) throw new Error(`--strategy ${strategyArg}: not one of ${STRATEGIES.join(', ')}`);
const strategy = strategyArg;
const dir = stringArg(args, 'dataset') ?? sharedPath('datasets/tf_flowers_dev');
const outDir = resolve(REPO_ROOT, stringArg(args, 'out') ?? 'test-output/bench');

const dataset = await loadImageDataset(dir, sharedPath('models'));
if (!dataset.split) throw new Error(`${dir} names no train/test split (labels.csv with a split column): the truth needs one`);
const task = makeTask(dataset.vectors, dataset.labels, dataset.classes.length, dataset.split.map((s) => s === 'test'));
console.log(`${dataset.name}: pool ${task.pool.rows}, test ${task.test.rows}; ${strategy} order, audit rate ${rate}, retrain every ${batch} labels, ${seeds} seeds`);

const runs: AuditCheckpoint[][] = [];
for (let seed = 0; seed < seeds; seed++) {
  const started = performance.now();
  runs.push(simulateAuditSession(task, seed, checkpoints, { rate, batch, strategy }));
  process.stderr.write(`seed ${seed + 1}/${seeds} ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

type Pick = EstimatePick;
const pct = (x: number) => (x * 100).toFixed(1);
const summary = estimateSummary;
const share: Pick = (c) => c.share;
const difference: Pick = (c) => c.difference;
const heldOut: Pick = (c) => c.heldOut;
const oldFigure: Pick = (c) => ({ accuracy: c.servedError === null ? null : 1 - c.servedError, low: null, high: null });

const rows: (string | number)[][] = [];
for (const at of [...checkpoints, 'all' as const]) {
  const points = runs.flat().filter((c) => at === 'all' || c.labels === at);
  const mean = (f: (c: AuditCheckpoint) => number) => points.reduce((s, c) => s + f(c), 0) / Math.max(1, points.length);
  const s = summary(points, heldOut); // what the quality view shows
  const l = summary(points, difference);
  const d = summary(points, share);
  const o = summary(points, oldFigure);
  rows.push([
    at === 'all' ? `${checkpoints[0]}-${checkpoints[checkpoints.length - 1]}` : at,
    mean((c) => c.audits).toFixed(1),
    pct(mean((c) => c.truth)),
    `${s.bias >= 0 ? '+' : ''}${pct(s.bias)}`,
    pct(s.mae),
    `${Math.round(s.coverage * 100)}%`,
    pct(s.width),
    `${l.bias >= 0 ? '+' : ''}${pct(l.bias)}`,
    pct(l.mae),
    `${Math.round(l.coverage * 100)}%`,
    pct(l.width),
    `${d.bias >= 0 ? '+' : ''}${pct(d.bias)}`,
    pct(d.mae),
    `${Math.round(d.coverage * 100)}%`,
    pct(d.width),
    `${o.bias >= 0 ? '+' : ''}${pct(o.bias)}`,
  ]);
}
console.log('');
printTable(
  [
    'labels', 'audits', 'true acc %', 'shown: bias', 'abs err', 'CI covers', 'CI width', 'at lease: bias', 'abs err', 'CI covers', 'CI width',
    'share: bias', 'abs err', 'CI covers', 'CI width', '1 - served error: bias',
  ],
  rows,
);
console.log(
  '\nshown = what the quality view shows: the current model\'s mean confidence on the audit set, corrected by the calibration error the ' +
    'audits show as the latest retrain\'s fold models judge them, weighed against a prior (audit.ts calibrationCorrection); ' +
    'at lease = the same on the audits as scored by the model that served each; share = the audited share at lease alone (Wilson 95%); ' +
    '1 - served error = the figure the app showed before. Points are percentage points.',
);
await mkdir(outDir, { recursive: true });
const file = resolve(outDir, `audit-${dataset.name}${strategy === DEFAULT_STRATEGY ? '' : `-${strategy}`}.json`);
await writeFile(file, JSON.stringify({ dataset: dataset.name, strategy, rate, batch, seeds, checkpoints, runs }, null, 1));
console.log(`wrote ${file}`);
