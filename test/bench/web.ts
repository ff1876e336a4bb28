// `npm run bench:web`: the labeling view in headless Chromium against the real local stack.
//   - key press -> next image painted, over N labels with prefetch (p50/p95; target p95 <= 50 ms)
//   - page start -> first sample painted
//   - the initial download: entry JS + CSS, gzipped (target JS <= 60 KB)
// Options: --images 250 (imported from tf_flowers_dev)  --labels 200  --think 150 (ms between labels, a fast
// labeler)  --data DIR (a data folder kept between runs: imported on the first, reused after, each run labeling
// as a new labeler; without it a temporary folder is used and removed).
// Prints a table and writes test-output/bench/web.json.

import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureWebBuilt, launchChromium, chromiumAvailable } from '../e2e-web/lib/browser.js';
import { caller, flowerFiles, uploadThroughApi, waitForIngest } from '../e2e-web/lib/project.js';
import { TEST_OUTPUT } from '../support/paths.js';
import { startTestStack, tempDir } from '../support/stack.js';
import { numberArg, parseArgs, stringArg } from './lib/args.js';
import { measureBundle } from './lib/bundle-size.js';
import { PAINT_PROBE_SCRIPT } from './lib/paint-probe.js';
import { printTable } from './lib/table.js';

const PROJECT = 'bench-web';
const CLASSES = ['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips'];
const TARGET_P95_MS = 50;
const TARGET_JS_GZIP = 60 * 1024;

const args = parseArgs();
const imageCount = numberArg(args, 'images', 250);
const labelCount = numberArg(args, 'labels', 200);
const thinkMs = numberArg(args, 'think', 150);
const reuseDir = stringArg(args, 'data');

if (!chromiumAvailable()) process.exit(1);
const log = (line: string) => console.log(`[bench:web] ${line}`);

const webDir = await ensureWebBuilt(log);
const bundle = measureBundle(webDir);

const dataDir = reuseDir ? path.resolve(reuseDir) : await tempDir('bench-web');
const stack = await startTestStack(dataDir, { webDir });
const browser = await launchChromium();
try {
  const owner = caller(stack.url, { user: 'bench-owner' });
  const existing = await owner('GET', `/api/projects/${PROJECT}`);
  if (existing.status === 404) {
    // Overlap 20: every run labels as a new labeler, so a reused data folder serves fresh samples 20 times.
    const created = await owner('POST', '/api/projects', { id: PROJECT, name: 'Bench', classes: CLASSES, overlap: 20 });
    if (created.status !== 201) throw new Error(`could not create the project: ${JSON.stringify(created.json)}`);
    const files = await flowerFiles(Math.ceil(imageCount / CLASSES.length));
    const started = performance.now();
    await uploadThroughApi(owner, PROJECT, files.slice(0, imageCount));
    await waitForIngest(owner, PROJECT, imageCount, 600_000);
    log(`imported ${imageCount} images in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } else {
    log(`reusing ${dataDir}`);
  }

  const labeler = `bench-${Date.now().toString(36)}`;
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(`localStorage.setItem('winnow.labeler', ${JSON.stringify(labeler)});`);
  await context.addInitScript(PAINT_PROBE_SCRIPT);
  const page = await context.newPage();
  page.on('pageerror', (err) => log(`page error: ${err.message}`));
  await page.goto(`${stack.url}/#/projects/${PROJECT}/label`);
  // Inline arrow functions only: the app's CSP forbids string evaluation, and tsx adds helpers to named ones.
  await page.waitForFunction(() => window.__paintProbe.firstPaint !== undefined, undefined, { timeout: 60_000 });
  const firstPaint = (await page.evaluate(() => window.__paintProbe.firstPaint)) as number;
  // Let the prefetch buffer fill, as it does while a labeler looks at the first image.
  await page.waitForTimeout(1000);

  let done = 0;
  for (; done < labelCount; done++) {
    // The photo's folder (in the image key, shown as the alt text) is its true class.
    const alt = await page.locator('[data-testid="sample-image"] img').getAttribute('alt', { timeout: 10_000 }).catch(() => null);
    if (!alt) break; // nothing left to label
    const folder = CLASSES.findIndex((c) => alt.includes(`/${c}/`));
    await page.keyboard.press(String((folder >= 0 ? folder : done % CLASSES.length) + 1));
    await page.waitForFunction((n) => window.__paintProbe.latencies.length >= n, done + 1, { timeout: 30_000 });
    if (thinkMs > 0) await page.waitForTimeout(thinkMs);
  }
  await page.getByTestId('save-status').filter({ hasText: 'All labels saved' }).waitFor({ timeout: 60_000 });
  const probe = await page.evaluate(() => window.__paintProbe);
  const ms = probe.latencies.map((l) => l.ms);
  const stats = percentiles(ms);
  const notPreloaded = probe.latencies.filter((l) => !l.preloaded).length;
  const progress = (await caller(stack.url, { user: labeler })('GET', `/api/projects/${PROJECT}/progress`)).json;

  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  const rows: (string | number)[][] = [
    ['key press -> next image painted, p50', `${stats.p50} ms`, ''],
    ['key press -> next image painted, p95', `${stats.p95} ms`, `<= ${TARGET_P95_MS} ms ${stats.p95 <= TARGET_P95_MS ? 'OK' : 'MISSED'}`],
    ['key press -> next image painted, p99 / max', `${stats.p99} / ${stats.max} ms`, ''],
    ['labels timed (images not yet prefetched)', `${ms.length} (${notPreloaded})`, ''],
    ['page start -> first sample painted', `${Math.round(firstPaint)} ms`, ''],
    ['initial JS, gzip', kb(bundle.initialJsGzip), `<= 60 KB ${bundle.initialJsGzip <= TARGET_JS_GZIP ? 'OK' : 'MISSED'}`],
    ['initial CSS, gzip', kb(bundle.initialCssGzip), ''],
    ['lazy owner chunks, gzip', kb(bundle.lazy.reduce((n, a) => n + a.gzip, 0)), `${bundle.lazy.length} files`],
  ];
  console.log('');
  printTable(['web app (headless Chromium, local stack)', 'value', 'target'], rows);
  console.log(`\n${os.cpus().length} cores, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; think time ${thinkMs} ms; labeled ${progress.me?.total ?? '?'} as ${labeler}`);

  const report = {
    at: new Date().toISOString(),
    machine: { cores: os.cpus().length, loadavg: os.loadavg(), chromium: browser.version() },
    options: { images: imageCount, labels: labelCount, thinkMs, reusedDataDir: !!reuseDir },
    keyToNextImagePaintedMs: { ...stats, mean: round(ms.reduce((a, b) => a + b, 0) / Math.max(1, ms.length)), count: ms.length, notPreloaded, samples: ms.map(round) },
    firstSamplePaintedMs: Math.round(firstPaint),
    bundle,
    targets: { p95Ms: TARGET_P95_MS, initialJsGzipBytes: TARGET_JS_GZIP },
    met: { p95: stats.p95 <= TARGET_P95_MS, initialJs: bundle.initialJsGzip <= TARGET_JS_GZIP },
  };
  const out = path.join(TEST_OUTPUT, 'bench', 'web.json');
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${path.relative(process.cwd(), out)}`);
  if (done < labelCount) log(`only ${done} samples were left to label (of ${labelCount} asked)`);
} finally {
  await browser.close();
  await stack.close();
  if (!reuseDir) await rm(dataDir, { recursive: true, force: true });
}

function percentiles(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length ? round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]) : 0);
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
