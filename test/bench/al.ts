// Active-learning benchmark: accuracy per label budget and labels-to-target for every strategy, on any
// folder-per-class image dataset (embedded through the real pipeline, cached) or a features .npy + labels .csv.
//   npm run bench:al -- --dataset DIR [--seeds 5] [--first-seed 0] [--strategies a,b] [--batch 10] [--out test-output/bench]
//                       [--truth-budgets 100,200,400] [--precisions 0.9,0.95,0.98] [--shift nearest|classifier|off]
//                       [--max-labels 400] [--audit-rate 0.1] [--audit-prior 20|off] [--folds 5] [--label-review FILE|off]
//   npm run bench:al -- --features X.npy --labels y.csv

import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createRng } from '../../functions/domain/learning/random.js';
import { servedCalibration, type TrainOptions } from '../../functions/domain/learning/train.js';
import { DEFAULT_STRATEGY, isStrategy, STRATEGIES, type StrategyName } from '../../functions/domain/learning/strategies.js';
import { fullPoolAccuracy, makeTask, schedule, simulate, type Curve } from './lib/al-simulation.js';
import { type AuditCheckpoint, type EstimatePick, estimateSummary, simulateAuditSession } from './lib/audit-simulation.js';
import { type AutolabelTrial, autolabelTrial, type MislabelTrial, mislabelTrial, recallAtFalseRate } from './lib/al-truth.js';
import { numberArg, numberListArg, parseArgs, stringArg } from './lib/args.js';
import { type BenchDataset, loadFeatureDataset, loadImageDataset } from './lib/dataset.js';
import { defaultReviewPath, loadLabelReview } from './lib/label-review.js';
import { REPO_ROOT, sharedPath } from './lib/paths.js';
import { learningCurveSvg } from './lib/svg-plot.js';
import { printTable } from './lib/table.js';

const args = parseArgs();
const budgets = numberListArg(args, 'budgets', [10, 20, 50, 100, 200, 400]);
const seeds = numberArg(args, 'seeds', 5);
/** --first-seed N: seeds N..N+seeds-1 (to check on fresh sessions what was tuned on others). */
const firstSeed = numberArg(args, 'first-seed', 0);
const batch = numberArg(args, 'batch', 10);
/** Label counts at which the mislabel finder and auto-labeling are simulated on the session's labels. */
const truthBudgets = numberListArg(args, 'truth-budgets', [100, 200, 400]);
/** Precisions auto-labeling is asked for. */
const precisions = numberListArg(args, 'precisions', [0.9, 0.95, 0.98]);
/**
 * The audit stream, simulated as the app serves it (1 in 10 by default, the app's auditRate): in every session (its
 * labels marked as audits, as the trainer marks them) and in the live accuracy estimate's check at these label counts.
 */
const auditRate = numberArg(args, 'audit-rate', 0.1);
const auditBudgets = numberListArg(args, 'audit-budgets', [50, 100, 150, 200]);
const auditSeeds = numberArg(args, 'audit-seeds', 10);
/** Measuring the trainer's choices: penalty grid (multiples of 1 / labels) and centring of the calibrated fit. */
const gridArg = stringArg(args, 'calibration-grid');
/** --shift nearest|classifier|off: the covariate-shift weights of the temperature fit (calibration.ts), to measure them. */
const shiftArg = stringArg(args, 'shift');
if (shiftArg !== undefined && !['nearest', 'classifier', 'off'].includes(shiftArg)) throw new Error(`--shift must be nearest, classifier or off, not "${shiftArg}"`);
/** --audit-prior K|off: what the audit draws weigh in the temperature fit (calibration.ts auditTemperatureWeights), to measure it. */
const auditPriorArg = stringArg(args, 'audit-prior');
/** --folds N: cross-validation folds of the calibrated fit (calibration.ts CALIBRATION_FOLDS), to measure them. */
const foldsArg = stringArg(args, 'folds');
if (foldsArg !== undefined && !(Number.isInteger(Number(foldsArg)) && Number(foldsArg) >= 2)) throw new Error(`--folds must be an integer >= 2, not "${foldsArg}"`);
if (auditPriorArg !== undefined && auditPriorArg !== 'off' && !(Number(auditPriorArg) >= 0)) throw new Error(`--audit-prior must be a number of labels >= 0 or off, not "${auditPriorArg}"`);
/** --fold-penalty shared|per-fold: the fold models' penalty (calibration.ts `foldPenalty`), to measure it. */
const foldPenaltyArg = stringArg(args, 'fold-penalty');
if (foldPenaltyArg !== undefined && !['shared', 'per-fold'].includes(foldPenaltyArg)) throw new Error(`--fold-penalty must be shared or per-fold, not "${foldPenaltyArg}"`);
const train: Partial<TrainOptions> | undefined =
  gridArg || args.uncentred || shiftArg || auditPriorArg || foldsArg || foldPenaltyArg
    ? {
        calibration: {
          ...(foldPenaltyArg ? { foldPenalty: foldPenaltyArg as 'shared' | 'per-fold' } : {}),
          ...(foldsArg ? { folds: Number(foldsArg) } : {}),
          ...(gridArg ? { grid: gridArg.split(',').map(Number) } : {}),
          ...(args.uncentred ? { centered: false } : {}),
          ...(shiftArg ? { shiftCorrection: shiftArg === 'off' ? false : { method: shiftArg as 'nearest' | 'classifier' } } : {}),
          ...(auditPriorArg ? { audit: auditPriorArg === 'off' ? (false as const) : { priorLabels: Number(auditPriorArg) } } : {}),
        },
      }
    : undefined;
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
/**
 * --label-review FILE|off: images a person found not to show their class (default: the dataset's review in
 * test/fixtures/label-review, if any), as pool rows; the mislabel table reports false flags without their labels too.
 */
const reviewArg = stringArg(args, 'label-review');
const reviewFile = reviewArg === 'off' ? undefined : reviewArg ? resolve(reviewArg) : defaultReviewPath(dataset);
const review = reviewFile ? await loadLabelReview(dataset, reviewFile) : undefined;
const reviewedWrong = new Set(review ? [...task.poolRows.keys()].filter((r) => review.wrong.has(task.poolRows[r])) : []);
const poolSize = task.pool.rows;
/** --max-labels N: stop each session at N labels (a quicker run; "to target" then counts a seed that never reached it as N). */
const maxLabels = numberArg(args, 'max-labels', poolSize);
const usedBudgets = budgets.filter((b) => b <= Math.min(poolSize, maxLabels));
const checkpoints = schedule(poolSize, [...usedBudgets, ...truthBudgets.filter((b) => b <= poolSize)], batch).filter((n) => n <= maxLabels);
const full = fullPoolAccuracy(task);
const target = full - 0.02;
console.log(
  `${dataset.name}: ${dataset.classes.length} classes, ${task.pool.dim}-d, pool ${poolSize}, test ${task.test.rows} ` +
    `(${dataset.split ? 'given split' : 'seeded 20% split'}); full-pool accuracy ${(full * 100).toFixed(1)}%, target ${(target * 100).toFixed(1)}%; ` +
    `${seeds} seeds, retrain every ${batch} labels`,
);

const results = new Map<StrategyName, { mean: number[]; curves: Curve[] }>();
/** Per strategy, per truth budget: one trial per seed. */
const mislabel = new Map<StrategyName, MislabelTrial[][]>();
const autolabel = new Map<StrategyName, AutolabelTrial[][][]>();
const meanOf = (
  curves: Curve[],
  key: 'ece' | 'eceFloor' | 'meanTop' | 'accuracy' | 'eceDebiased' | 'heldOutEce' | 'heldOutFloor' | 'heldOutTopMinusAccuracy' | 'audits',
  k: number,
) => mean(curves.map((c) => c[key][k]));
for (const strategy of strategies) {
  const curves: Curve[] = [];
  const mis: MislabelTrial[][] = truthBudgets.map(() => []);
  const auto: AutolabelTrial[][][] = truthBudgets.map(() => []);
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    const sets = new Map<number, { rows: number[]; audit: boolean[] }>();
    curves.push(
      simulate(task, strategy, seed, checkpoints, {
        train,
        auditRate,
        onRetrain: (labeled, _, audit) => truthBudgets.includes(labeled.length) && sets.set(labeled.length, { rows: [...labeled], audit: [...audit] }),
      }),
    );
    truthBudgets.forEach((b, k) => {
      const set = sets.get(b);
      if (!set) return;
      const calibration = { ...servedCalibration(strategy), ...train?.calibration };
      mis[k].push(mislabelTrial(task, set.rows, seed, 0.1, calibration, set.audit, reviewedWrong));
      auto[k].push(autolabelTrial(task, set.rows, precisions, calibration, set.audit));
    });
  }
  mislabel.set(strategy, mis);
  autolabel.set(strategy, auto);
  const meanCurve = checkpoints.map((_, k) => mean(curves.map((c) => c.accuracy[k])));
  results.set(strategy, { mean: meanCurve, curves });
  process.stderr.write(`${strategy}: ${(mean(curves.map((c) => c.ms)) / 1000).toFixed(1)} s per run\n`);
}

/** First checkpoint at or above the target; the pool size when never reached (a censored, optimistic count). */
const labelsToTarget = (curve: number[]) => {
  const k = curve.findIndex((a) => a >= target);
  return k < 0 ? Math.min(poolSize, maxLabels) : checkpoints[k];
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
console.log(
  `\nCalibration on the test split (mean over seeds): ECE = expected calibration error (10 bins); floor = the ECE a perfectly calibrated model ` +
    `with the same confidences shows on ${task.test.rows} test images (sampling noise alone); top-acc = mean top probability minus accuracy, points.`,
);
printTable(
  ['strategy', ...usedBudgets.flatMap((b) => [`ECE@${b}`, `floor@${b}`, `top-acc@${b}`])],
  strategies.map((s) => {
    const r = results.get(s)!;
    return [
      s,
      ...usedBudgets.flatMap((b) => {
        const k = checkpoints.indexOf(b);
        const ece = meanOf(r.curves, 'ece', k);
        if (Number.isNaN(ece)) return ['-', '-', '-'];
        return [ece.toFixed(3), meanOf(r.curves, 'eceFloor', k).toFixed(3), ((meanOf(r.curves, 'meanTop', k) - meanOf(r.curves, 'accuracy', k)) * 100).toFixed(1)];
      }),
    ];
  }),
);
console.log(
  `\nCalibration beyond the test split's ${task.test.rows} images (mean over seeds): debiased = the test split's ECE less its sampling bias ` +
    `(Kumar et al. 2019, normal resampling of each bin's accuracy; it removes about half of the floor: ~0.027 for a calibrated model on 200 images, test/learning/ece-estimators.test.ts); held-out = ECE, its floor and mean top probability ` +
    `minus accuracy (points) over every image the model has not trained on (test split + the pool's unlabeled rest, ~${task.test.rows + poolSize - 100} at 100 labels); ` +
    `audits = audit draws among the labels (1 in ${auditRate > 0 ? Math.round(1 / auditRate) : '-'} served once a model exists).`,
);
printTable(
  ['strategy', ...usedBudgets.flatMap((b) => [`debiased@${b}`, `held-out ECE@${b}`, `floor@${b}`, `top-acc@${b}`, `audits@${b}`])],
  strategies.map((s) => {
    const r = results.get(s)!;
    return [
      s,
      ...usedBudgets.flatMap((b) => {
        const k = checkpoints.indexOf(b);
        if (Number.isNaN(meanOf(r.curves, 'ece', k))) return ['-', '-', '-', '-', meanOf(r.curves, 'audits', k).toFixed(1)];
        return [
          meanOf(r.curves, 'eceDebiased', k).toFixed(3),
          meanOf(r.curves, 'heldOutEce', k).toFixed(3),
          meanOf(r.curves, 'heldOutFloor', k).toFixed(3),
          (meanOf(r.curves, 'heldOutTopMinusAccuracy', k) * 100).toFixed(1),
          meanOf(r.curves, 'audits', k).toFixed(1),
        ];
      }),
    ];
  }),
);
const usedTruth = truthBudgets.filter((b) => b <= poolSize && checkpoints.includes(b));
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
console.log(
  '\nMislabel finder (labels of the session at that count, 10% flipped to another class at random; then the same labels clean): ' +
    'recall = flipped labels flagged; precision = flipped labels among those flagged; false = correct labels flagged; clean = labels flagged when none is flipped (sums over seeds); ' +
    'ceiling = recall of the best threshold on the same signal (out-of-fold probability of the given class around the sample: over it and its pool neighbours) chosen knowing the truth so that 5% of the correct labels are flagged; point ceiling = the same on the probability at the sample alone (the signal before neighbour smoothing).' +
    (review
      ? ` reviewed = false and clean without the labels of the ${reviewedWrong.size} pool images a person found not to show their class (${review.file.replace(REPO_ROOT + '/', '')}): the dataset's own label errors, which the finder is right to flag.`
      : ''),
);
printTable(
  [
    'strategy',
    ...usedTruth.flatMap((b) => [
      `recall@${b}`,
      `precision@${b}`,
      `false@${b}`,
      `clean@${b}`,
      ...(review ? [`false reviewed@${b}`, `clean reviewed@${b}`] : []),
      `ceiling@${b}`,
      `point ceiling@${b}`,
    ]),
  ],
  strategies.map((s) => [
    s,
    ...usedTruth.flatMap((b) => {
      const t = mislabel.get(s)![truthBudgets.indexOf(b)];
      const share = (a: number, n: number) => `${((a / Math.max(1, n)) * 100).toFixed(1)}%`;
      return [
        share(sum(t.map((x) => x.found)), sum(t.map((x) => x.flipped))),
        share(sum(t.map((x) => x.found)), sum(t.map((x) => x.found + x.falseFlags))),
        share(sum(t.map((x) => x.falseFlags)), sum(t.map((x) => x.correct))),
        share(sum(t.map((x) => x.cleanFlags)), sum(t.map((x) => x.clean))),
        ...(review
          ? [
              share(sum(t.map((x) => x.reviewed.falseFlags)), sum(t.map((x) => x.reviewed.correct))),
              share(sum(t.map((x) => x.reviewed.cleanFlags)), sum(t.map((x) => x.reviewed.clean))),
            ]
          : []),
        `${(recallAtFalseRate(t, 0.05) * 100).toFixed(1)}%`,
        `${(recallAtFalseRate(t, 0.05, 'pointProbability') * 100).toFixed(1)}%`,
      ];
    }),
  ]),
);
console.log(
  '\nAuto-labeling the unlabeled pool at a promised precision P (threshold from held-out predictions, fixed-sequence ' +
    'Clopper-Pearson at delta 0.05): coverage = mean share of the unlabeled pool labeled; true = precision of those labels ' +
    'against the dataset (pooled over seeds, - when nothing was labeled); kept = seeds whose true precision >= P / seeds that labeled anything.',
);
printTable(
  ['strategy', 'P', ...usedTruth.flatMap((b) => [`coverage@${b}`, `true@${b}`, `kept@${b}`])],
  strategies.flatMap((s) =>
    precisions.map((P, j) => [
      s,
      P,
      ...usedTruth.flatMap((b) => {
        const t = autolabel.get(s)![truthBudgets.indexOf(b)].map((seedTrials) => seedTrials[j]);
        const labeled = t.filter((x) => x.autoLabeled > 0);
        const right = sum(labeled.map((x) => x.truePrecision * x.autoLabeled));
        const n = sum(labeled.map((x) => x.autoLabeled));
        return [
          `${(mean(t.map((x) => x.coverage)) * 100).toFixed(1)}%`,
          n > 0 ? `${((right / n) * 100).toFixed(1)}%` : '-',
          `${labeled.filter((x) => x.truePrecision >= P).length}/${labeled.length}`,
        ];
      }),
    ]),
  ),
);
if (auditRate > 0 && auditSeeds > 0) {
  const checks = new Map<StrategyName, AuditCheckpoint[][]>();
  for (const s of strategies) {
    const runs: AuditCheckpoint[][] = [];
    for (let seed = firstSeed; seed < firstSeed + auditSeeds; seed++) runs.push(simulateAuditSession(task, seed, auditBudgets, { rate: auditRate, strategy: s }));
    checks.set(s, runs);
  }
  console.log(
    `\nLive accuracy estimate (audit stream: 1 in ${Math.round(1 / auditRate)} served images drawn uniformly from the audit set, ` +
      `retrained every 4 labels as the trainer does, test/bench/lib/audit-simulation.ts; seeds ${firstSeed}-${firstSeed + auditSeeds - 1}): error = estimate - true test ` +
      `accuracy of the model at that point, mean over seeds (mean |error| in brackets), points; covered = seeds whose 95% interval holds the ` +
      `truth; n = audited labels (mean). Per label count: the figure the quality view shows (functions/domain/quality.ts: the current ` +
      `model's mean confidence on the audit set, corrected by the calibration error the audits show as the latest retrain's fold models ` +
      `judge them, audit.ts); then, over all label counts, the same with the audits scored by the model that served each, and the ` +
      `audited share alone.`,
  );
  const first = auditBudgets[0];
  const last = auditBudgets[auditBudgets.length - 1];
  type Pick = EstimatePick;
  const err = (cs: AuditCheckpoint[], pick: Pick) => {
    const { bias, mae } = estimateSummary(cs, pick);
    return `${bias >= 0 ? '+' : ''}${(bias * 100).toFixed(1)} (${(mae * 100).toFixed(1)})`;
  };
  const cov = (cs: AuditCheckpoint[], pick: Pick) => {
    const { coverage, n } = estimateSummary(cs, pick);
    return `${Math.round(coverage * n)}/${n}`;
  };
  const shown: Pick = (c) => c.heldOut;
  const atLease: Pick = (c) => c.difference;
  const share: Pick = (c) => c.share;
  printTable(
    [
      'strategy',
      ...auditBudgets.flatMap((b) => [`error@${b}`, `covered@${b}`, `n@${b}`]),
      `shown: error ${first}-${last}`, 'covered', `at lease: error ${first}-${last}`, 'covered', `share: error ${first}-${last}`, 'covered',
    ],
    strategies.map((s) => {
      const runs = checks.get(s)!;
      const at = (b: number) => runs.map((r) => r.find((c) => c.labels === b)).filter((c): c is AuditCheckpoint => !!c);
      const all = runs.flat();
      return [
        s,
        ...auditBudgets.flatMap((b) => [err(at(b), shown), cov(at(b), shown), mean(at(b).map((c) => c.audits)).toFixed(1)]),
        err(all, shown), cov(all, shown), err(all, atLease), cov(all, atLease), err(all, share), cov(all, share),
      ];
    }),
  );
}
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
  JSON.stringify(
    {
      dataset: dataset.name,
      full,
      target,
      checkpoints,
      strategies: Object.fromEntries([...results].map(([s, r]) => [s, r])),
      truthBudgets,
      precisions,
      mislabel: Object.fromEntries(mislabel),
      autolabel: Object.fromEntries(autolabel),
    },
    null,
    1,
  ),
);
console.log(`\nlearning curves: ${svgPath}`);
