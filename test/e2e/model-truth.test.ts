// What the labeler is told about the model is true (issue 13), on the running local stack with the real MobileNetV2
// embedder and tf_flowers_dev: a labeler labels through the HTTP API in served order with the true classes, and at
// 50 and 100 labels the test split (held out: the labeler skips those images, as anyone may skip) is read back as
// the API shows it:
//  - the suggestion shown is right at least as often as the model itself (ranking record) - 1 point;
//  - the probabilities shown are calibrated (expected calibration error over the test split);
//  - the live accuracy estimate (audit stream) is near the true test accuracy, its interval covering it.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importFolder } from '../../functions/cli/import.js';
import { localTarget } from '../../functions/cli/stack-client.js';
import type { LocalStack } from '../../functions/local/stack.js';
import { ACCEPT_THRESHOLD } from '../../web/src/labeling/labels.js';
import { FLOWERS } from '../support/paths.js';
import { devNull } from '../support/streams.js';
import { apiClient, startTestStack, tempDir } from '../support/stack.js';
import { binomialUpperTail } from '../../functions/domain/learning/precision-bound.js';

const PROJECT = 'truth';
/** Enough pool for 100 labels of active learning to behave as on the full set, ingest kept short. */
const TRAIN_PER_CLASS = 120;
const TEST_PER_CLASS = 40;
const CHECKPOINTS = [50, 100];
/**
 * Bounds on the expected calibration error (10 bins, top class) of the shown probabilities over the 200 test images,
 * per label count. Measured with the committed engine (calibrated at every retrain, ddcd366) over 8 runs: 0.05-0.17 at
 * 50 labels, 0.04-0.13 at 100; the misses are underconfidence (mean shown probability 10-17 points under the
 * accuracy). Before calibration: 0.40-0.41. 200 images leave ~0.03 of sampling noise on an ECE. The engine's own
 * target (0.05) is bench:al's to check; this bound keeps the shown probabilities from going flat again.
 */
const MAX_ECE: Record<number, number> = { 50: 0.25, 100: 0.18 };
/**
 * The accuracy estimate (the model's calibrated confidence on the audit set, checked against ~5-10 audited labels at
 * these budgets) carries a wide 95% interval: it holds the calibration's possible error and the audit set's own
 * sampling (~70 images here). The test asks the truth to lie within 1.5 times the interval's reach from the estimate
 * on the truth's side, or within 15 points, and within the interval widened by half a half-width each way.
 * bench:audit measures the average error (4.2 points over 50-200 labels) over many sessions. The figure this
 * replaces read 20-33 points low whatever the number of labels; the audits alone, scored by the models that served
 * them, read +10 points high here over 13 checkpoints (a fixed audit set that happened to be easy).
 */
const INTERVAL_SLACK = 1.5;
const MAX_ESTIMATE_ERROR = 0.15;

interface Row {
  path: string;
  label: string;
  split: string;
}

async function datasetRows(): Promise<Row[]> {
  const text = await readFile(path.join(FLOWERS, 'labels.csv'), 'utf8');
  const [header, ...lines] = text.trim().split('\n');
  const cols = header.split(',');
  const at = (name: string) => cols.indexOf(name);
  return lines.map((line) => {
    const cells = line.split(','); // path, label and split come first and hold no commas
    return { path: cells[at('path')], label: cells[at('label')], split: cells[at('split')] };
  });
}

/** Expected calibration error of top-class confidences against correctness, `bins` equal-width bins. */
function ece(confidence: number[], correct: boolean[], bins = 10): number {
  let total = 0;
  for (let b = 0; b < bins; b++) {
    const idx = confidence.map((c, i) => i).filter((i) => Math.min(bins - 1, Math.floor(confidence[i] * bins)) === b);
    if (idx.length === 0) continue;
    const conf = idx.reduce((s, i) => s + confidence[i], 0) / idx.length;
    const acc = idx.filter((i) => correct[i]).length / idx.length;
    total += (idx.length / confidence.length) * Math.abs(conf - acc);
  }
  return total;
}

describe('what the labeler sees of the model is true', () => {
  let stack: LocalStack | undefined;
  afterAll(async () => stack?.close());

  it('suggestions, calibration and the accuracy estimate at 50 and 100 labels, through the API', async () => {
    const rows = await datasetRows();
    const classes = [...new Set(rows.map((r) => r.label))].sort();
    const pick = (split: string, n: number) => classes.flatMap((c) => rows.filter((r) => r.split === split && r.label === c).slice(0, n));
    const chosen = [...pick('train', TRAIN_PER_CLASS), ...pick('test', TEST_PER_CLASS)];
    const byFile = new Map(chosen.map((r) => [r.path, r]));

    const dataDir = await tempDir('truth');
    stack = await startTestStack(dataDir); // the default retraining cadence, as a labeler gets it
    await importFolder(await localTarget(dataDir), {
      dir: FLOWERS, files: chosen.map((r) => r.path), project: PROJECT, classes, concurrency: 4, wait: true, out: devNull(),
    });
    const api = apiClient(stack.url, 'ann');

    // Which sample is which image (the whole-image sample has the image's id).
    const truthOf = new Map<string, Row>();
    const notReady: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await stack.stores.samples.listImages(PROJECT, { cursor, limit: 1000 });
      for (const image of page.items) {
        const row = byFile.get(image.key.split('/').slice(2).join('/'));
        if (row && image.status === 'ready') truthOf.set(image.imageId, row);
        else notReady.push(`${image.key}: ${image.status}${image.reason ? ` (${image.reason})` : ''}`);
      }
      cursor = page.cursor;
    } while (cursor);
    const listed = new Set([...truthOf.values()].map((r) => r.path));
    const missing = chosen.filter((r) => !listed.has(r.path) && !notReady.some((n) => n.includes(`/${r.path}:`)));
    const progress = (await apiClient(stack.url, 'ann')('GET', `/api/projects/${PROJECT}/progress`)).json.images;
    expect({ notReady, missing: missing.map((r) => r.path) }, `every imported image is ready once the import waited for ingest (progress says ${JSON.stringify(progress)})`)
      .toEqual({ notReady: [], missing: [] });
    expect(truthOf.size).toBe(chosen.length);
    const testIds = [...truthOf].filter(([, r]) => r.split === 'test').map(([id]) => id);

    // Before any model: no suggestion; tagger tags, if any, apart and never one of the project's classes.
    const first = await api('GET', `/api/projects/${PROJECT}/samples/${testIds[0]}`);
    expect(first.json.sample.suggestions).toBeUndefined();
    expect((first.json.sample.tags ?? []).every((t: { classIndex: number }) => t.classIndex === -1)).toBe(true);

    let labeled = 0;
    let retrainMs = 0;
    const report: string[] = [];
    for (const checkpoint of CHECKPOINTS) {
      while (labeled < checkpoint) {
        const next = await api('GET', `/api/projects/${PROJECT}/next?count=1`);
        expect(next.status).toBe(200);
        const served = next.json.samples[0];
        expect(served, `nothing served after ${labeled} labels`).toBeDefined();
        const row = truthOf.get(served.sample.sampleId)!;
        if (row.split === 'test') {
          // Held out: handed back to the pool, this labeler is not served it again while anything else is left.
          expect((await api('POST', `/api/projects/${PROJECT}/samples/${served.sample.sampleId}/skip`)).status).toBe(200);
          continue;
        }
        const saved = await api('POST', `/api/projects/${PROJECT}/samples/${served.sample.sampleId}/annotations`, {
          version: served.sample.version, requestId: `truth-${served.sample.sampleId}`, classIndex: classes.indexOf(row.label),
        });
        expect(saved.status).toBe(201);
        labeled++;
        // A person takes a second or more per label, longer than a retrain: the app retrains after every 4 labels
        // (its default cadence) before the next ones are served. This labeler is faster, so it waits for that.
        if (labeled % 4 === 0) retrainMs += (await stack.trainer.flush(PROJECT))?.ms.total ?? 0;
      }
      await stack.trainer.flush(PROJECT); // the model of exactly these labels

      // The model's own test accuracy, from the ranking record serving reads.
      const ranking = (await stack.stores.rankings.get(PROJECT))!;
      expect(ranking.coldStart).toBe(false);
      const rowOf = new Map(ranking.sampleIds.map((id, i) => [id, i]));
      let modelRight = 0;
      for (const id of testIds) {
        const r = rowOf.get(id)!;
        expect(r, 'every held-out image is ranked').toBeDefined();
        const p = ranking.probs!.subarray(r * ranking.classes, (r + 1) * ranking.classes);
        let best = 0;
        for (let c = 1; c < p.length; c++) if (p[c] > p[best]) best = c;
        if (classes[best] === truthOf.get(id)!.label) modelRight++;
      }
      const modelAccuracy = modelRight / testIds.length;

      // What the API shows for each held-out image.
      const confidence: number[] = [];
      const correct: boolean[] = [];
      for (const id of testIds) {
        const shown = await api('GET', `/api/projects/${PROJECT}/samples/${id}`);
        const suggestions = shown.json.sample.suggestions as { classIndex: number; name: string; probability: number }[];
        expect(suggestions.length).toBeGreaterThan(0);
        expect(suggestions.every((s) => s.classIndex >= 0 && classes[s.classIndex] === s.name)).toBe(true);
        expect((shown.json.sample.tags ?? []).every((t: { classIndex: number }) => t.classIndex === -1)).toBe(true);
        confidence.push(suggestions[0].probability);
        correct.push(suggestions[0].name === truthOf.get(id)!.label);
      }
      const shownAccuracy = correct.filter(Boolean).length / correct.length;
      const calibrationError = ece(confidence, correct);
      const meanConfidence = confidence.reduce((a, b) => a + b, 0) / confidence.length;
      // Where the app offers Accept (the model at least ACCEPT_THRESHOLD sure), how often accepting would be right.
      const offered = confidence.map((c, i) => i).filter((i) => confidence[i] >= ACCEPT_THRESHOLD);
      const acceptRight = offered.filter((i) => correct[i]).length / Math.max(1, offered.length);

      const quality = (await api('GET', `/api/projects/${PROJECT}/quality`)).json;
      const estimate = quality.accuracy;
      report.push(
        `${checkpoint} labels: model ${(modelAccuracy * 100).toFixed(1)}%, suggestion shown right ${(shownAccuracy * 100).toFixed(1)}%, ` +
          `mean shown confidence ${(meanConfidence * 100).toFixed(1)}%, ECE ${calibrationError.toFixed(3)}; estimate ` +
          `${estimate.accuracy === null ? '-' : (estimate.accuracy * 100).toFixed(1)}% [${estimate.low === null ? '-' : (estimate.low * 100).toFixed(1)}, ` +
          `${estimate.high === null ? '-' : (estimate.high * 100).toFixed(1)}] from ${estimate.n} audited labels (${estimate.method}, scored ${estimate.scoredBy}), ` +
          `served-sample error ${quality.errorRate === null ? '-' : (quality.errorRate * 100).toFixed(1)}%; Accept offered on ` +
          `${offered.length} test images, right on ${(acceptRight * 100).toFixed(1)}%`,
      );
      console.log(`${report[report.length - 1]}; retrains so far ${(retrainMs / 1000).toFixed(1)} s`);

      expect(shownAccuracy, `${checkpoint} labels`).toBeGreaterThanOrEqual(modelAccuracy - 0.01);
      expect(calibrationError, `${checkpoint} labels: ECE`).toBeLessThanOrEqual(MAX_ECE[checkpoint]);
      // Accept is worth offering: right at least 9 times in 10 less the sampling noise of a few dozen images (2 SE).
      if (offered.length >= 20) {
        expect(acceptRight, `${checkpoint} labels: Accept right`).toBeGreaterThanOrEqual(ACCEPT_THRESHOLD - 2 * Math.sqrt(0.09 / offered.length));
      }
      expect(estimate.n, 'audited labels are a share of all labels').toBeLessThan(checkpoint);
      // About 1 in 10 new leases is an audit draw (1 in 5 of those lands on a held-out image, skipped here): none at all
      // in the ~90 labels given with a model would happen a few times in 10^4 runs.
      if (checkpoint >= 100) expect(estimate.n).toBeGreaterThan(0);
      // Once the calibrated fit has audited labels, it judges them all again at every retrain (the current model's
      // evidence, not that of the models that served them).
      if (estimate.n > 0) expect(estimate.scoredBy).toBe('held-out');
      if (estimate.n > 0) {
        const half = (estimate.high - estimate.low) / 2;
        // The interval is not symmetric near 0 or 1 (Wilson): 7 right of 7 audits read 98.3% [62.4, 99.9]. The
        // estimate is judged by its interval's reach on the side of the truth.
        const reach = modelAccuracy < estimate.accuracy ? estimate.accuracy - estimate.low : estimate.high - estimate.accuracy;
        expect(Math.abs(estimate.accuracy - modelAccuracy), `${checkpoint} labels: estimate vs truth`).toBeLessThanOrEqual(
          Math.max(MAX_ESTIMATE_ERROR, INTERVAL_SLACK * reach),
        );
        expect(modelAccuracy).toBeGreaterThanOrEqual(estimate.low - (INTERVAL_SLACK - 1) * half);
        expect(modelAccuracy).toBeLessThanOrEqual(estimate.high + (INTERVAL_SLACK - 1) * half);
      }
    }
    expect(labeled).toBe(100);

    // Auto-labeling at 100 labels, as an owner asks for it: the threshold the images are held to is the certified one
    // carried to the final model's scale (never lower), and the batch is as right as an 80%-precise labeler could be
    // (one batch is a draw: an exact binomial test at 1%; bench:al measures the rate over sessions).
    const owner = apiClient(stack.url, 'owner');
    // The labeler's next sample is leased ahead in the background after their last request; a leased sample is not
    // auto-labeled, so the preview and the run are compared once that lease has landed.
    await stack.serveAhead.idle();
    const asked = await owner('GET', `/api/projects/${PROJECT}/autolabel?precision=0.8`);
    expect(asked.status).toBe(200);
    const preview = asked.json.preview;
    if (!preview.possible) {
      console.log(`auto-label at 80% after 100 labels: not possible yet (${preview.reason})`);
      expect(preview.reason).toMatch(/held-out predictions/);
      return;
    }
    expect(preview.threshold).toBeGreaterThanOrEqual(preview.heldOutThreshold);
    const run = await owner('POST', `/api/projects/${PROJECT}/autolabel`, { precision: 0.8 });
    expect(run.status).toBe(200);
    expect(run.json.labeled).toBe(preview.wouldLabel);
    const heads = await stack.stores.samples.getSamples(PROJECT, [...truthOf.keys()]);
    const auto = heads.filter((h) => h.label?.source === 'model' && h.label.batchId === run.json.batchId);
    expect(auto).toHaveLength(run.json.labeled);
    const right = auto.filter((h) => classes[h.label!.confidences.indexOf(1)] === truthOf.get(h.sampleId)!.label).length;
    console.log(
      `auto-label at 80% after 100 labels: ${auto.length} images at confidence >= ${preview.threshold} (certified ${preview.heldOutThreshold}), ` +
        `${right} right (${((100 * right) / Math.max(1, auto.length)).toFixed(1)}%)`,
    );
    for (const h of auto) expect(h.label!.modelConfidence!).toBeGreaterThanOrEqual(preview.threshold);
    if (auto.length > 0) expect(1 - binomialUpperTail(auto.length, right + 1, 0.8), `${right} of ${auto.length} right under an 80% promise`).toBeGreaterThanOrEqual(0.01);
  }, 600_000);
});
