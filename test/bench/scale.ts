// Scale benchmark: every labeler and owner route of the real local stack (`npm start`'s startLocalStack: dynalite and
// s3rver in child processes, the API, the trainer process) on projects of 10k, 100k and 1M samples, to see which
// routes grow with the project. Each size: the stack starts once (tables, bucket, project through the API, fp16
// embedding shards through the blob store), stops, the records are written straight into dynalite's folder
// (scale-seed.ts), and the stack starts again (the restart time reported). With every size's stack up, one request
// at a time, each route is timed from the client and its store calls counted (store-calls.ts), the sizes taking
// turns in rounds (--rounds) so that the machine's other load falls on each alike; the trainer's retrain is timed by
// the trainer itself. Prints a table per size and the growth smallest -> largest per route.
//   npm run bench:scale -- [--samples 10000,100000,1000000] [--labels 2000] [--dims 128] [--requests 100] [--rounds 4]
//                          [--models DIR] [--out test-output/bench] [--routes similar,next]
// --routes: only the routes whose name contains one of these words (and the labeling routes they need), e.g. to
// iterate on one route; the jobs and the owner routes run only if named. The similar route is also timed phase by
// phase (route-phases.ts: the trainer's look-up, each store read, the rest), printed under each size's table.
// --dims: embedding width of the seeded shards (1280 is MobileNetV2's; 1M x 1280 is 5 GB as float32 in each of the
// API and trainer processes, too much beside other work on this machine, so 128 by default: the retrain's cost per
// dimension is bench:rank's subject). Labels are a fixed number whatever the size (a team labels thousands, not 1M).
// The vectors have the structure of real embeddings rather than none (uniform random vectors have no neighbours worth
// finding): 200 topics of 20 sub-topics each, a sample its sub-topic's point plus noise. Above 50k samples the similar
// route answers from an index (functions/domain/similar.ts); its recall@24 against the exact answer is measured on 20
// samples and printed beside the route, with the index's build time (in the trainer process, after the first retrain).

import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startLocalStack, type LocalStack } from '../../functions/local/stack.js';
import { createImageAnalyzer } from '../../functions/vision/analyzer.js';
import { appendEmbeddings } from '../../functions/adapters/embeddings/shards.js';
import { tempDir } from '../support/stack.js';
import { numberArg, numberListArg, parseArgs, stringArg } from './lib/args.js';
import { markdownTable } from './lib/markdown-table.js';
import { REPO_ROOT, sharedPath } from './lib/paths.js';
import { imageIdOf, seedDynalite } from './lib/scale-seed.js';
import { measureRoutes, mergeRounds, type RouteResult } from './lib/scale-routes.js';
import { EXACT_UP_TO } from '../../functions/domain/similar.js';

const PROJECT = 'bench-scale';
const CLASSES = 5;
const args = parseArgs();
const sizes = numberListArg(args, 'samples', [10_000, 100_000, 1_000_000]);
const labels = numberArg(args, 'labels', 2000);
const dims = numberArg(args, 'dims', 128);
const requests = numberArg(args, 'requests', 100);
const roundCount = numberArg(args, 'rounds', 4);
const routeFilter = stringArg(args, 'routes')?.split(',').map((r) => r.trim()).filter(Boolean);
const modelDir = path.resolve(stringArg(args, 'models') ?? sharedPath('models'));
const outDir = path.resolve(REPO_ROOT, stringArg(args, 'out') ?? 'test-output/bench');
const TOPICS = 200;
const SUBTOPICS = 20;
const topicPoints = new Map<number, Float32Array>();
const pointOf = (seed: number) => topicPoints.get(seed) ?? (topicPoints.set(seed, unitVector(dims, seed)), topicPoints.get(seed)!);
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

const analyzer = await createImageAnalyzer({ modelDir });
const embedder = analyzer.embedder;
if (!embedder) throw new Error(`the embedder is missing: ${analyzer.status().missing.join('; ')}`);

interface SizeResult {
  samples: number;
  seed: { dynamoItems: number; dynamoMs: number; embeddingsMs: number };
  restartMs: number;
  firstProgressMs: number;
  retrain: { firstMs: number; againMs: number };
  /** The similar route's index: ready this long after the first retrain; recall@24 against every row compared. */
  similar: { indexReadyMs: number; recall: number | null; queries: number };
  recountMs: number;
  routes: RouteResult[];
}

const start = (dataDir: string) =>
  startLocalStack({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    s3Port: 0,
    dynamoPort: 0,
    analyzer,
    // Retrains only when the bench asks (flush), so that route timings are not a retrain's noise.
    trainer: { everyLabels: Number.MAX_SAFE_INTEGER, afterMs: 2 ** 31 - 1 },
    log: () => undefined,
  });

interface Prepared {
  samples: number;
  dataDir: string;
  stack: LocalStack;
  labelerIds: string[];
  sampleId: string;
  similarSampleOf: () => string;
  partial: Omit<SizeResult, 'routes' | 'recountMs' | 'retrain' | 'similar'> & { firstRetrainMs: number; indexReadyMs: number };
}

/** Creates the project, writes its shards and records, restarts the stack on them and makes the first ranking. */
async function prepare(samples: number, dataDir: string): Promise<Prepared> {
  log(`${samples} samples: creating the project and ${dims}-d fp16 embedding shards`);
  let stack: LocalStack | undefined = await start(dataDir);
  try {
    const created = await fetch(`${stack.url}/api/projects`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-winnow-user': 'owner' },
      body: JSON.stringify({ id: PROJECT, classes: Array.from({ length: CLASSES }, (_, i) => `class-${i}`), auditRate: 0.1 }),
    });
    if (created.status !== 201) throw new Error(`creating the project failed: ${created.status} ${await created.text()}`);
    const failedEvery = 200;
    const t0 = performance.now();
    const shardRows = 20_000;
    for (let from = 0; from < samples; from += shardRows) {
      const rows = [];
      for (let i = from; i < Math.min(samples, from + shardRows); i++) if (i % failedEvery !== failedEvery - 1) rows.push({ sampleId: imageIdOf(i), vector: topicVector(dims, i) });
      await appendEmbeddings(stack.stores.blobs, PROJECT, embedder!.name, rows);
    }
    const embeddingsMs = performance.now() - t0;
    await stack.close();
    stack = undefined;

    log(`${samples} samples: writing records into dynalite's folder`);
    let shown = 0;
    const seeded = await seedDynalite(path.join(dataDir, 'dynamodb'), { projectId: PROJECT, classes: CLASSES, samples, labels, labelers: 5, failedEvery }, (done) => {
      if (done - shown >= 250_000) log(`  ${(shown = done)} items`);
    });
    log(`${samples} samples: ${seeded.items} items in ${(seeded.ms / 1000).toFixed(1)} s; restarting the stack`);

    const t1 = performance.now();
    stack = await start(dataDir);
    const restartMs = performance.now() - t1;
    const t2 = performance.now();
    const progress = await fetch(`${stack.url}/api/projects/${PROJECT}/progress`, { headers: { 'x-winnow-user': 'labeler-0' } });
    if (progress.status !== 200) throw new Error(`progress after the restart: ${progress.status} ${await progress.text()}`);
    const counted = (await progress.json()) as { total: number; labeled: number };
    const firstProgressMs = performance.now() - t2;
    log(`${samples} samples: restart ${Math.round(restartMs)} ms, progress says ${counted.total} samples, ${counted.labeled} labeled; first retrain`);
    const first = await stack.trainer.flush(PROJECT);
    if (!first) throw new Error('the first retrain produced no ranking');
    log(`${samples} samples: retrain ${Math.round(first.ms.total)} ms (labels and embeddings read in ${Math.round(first.ms.load)} ms)`);
    const t4 = performance.now();
    await stack.trainer.similar(PROJECT, seeded.labeledSampleId, 24, { waitForIndex: true });
    const indexReadyMs = performance.now() - t4;
    log(`${samples} samples: similar index ready ${Math.round(indexReadyMs)} ms after the retrain`);
    return {
      samples,
      dataDir,
      stack,
      labelerIds: seeded.labelerIds,
      sampleId: seeded.labeledSampleId,
      similarSampleOf: spreadSamples(samples),
      partial: {
        samples,
        seed: { dynamoItems: seeded.items, dynamoMs: Math.round(seeded.ms), embeddingsMs: Math.round(embeddingsMs) },
        restartMs: Math.round(restartMs),
        firstProgressMs: Math.round(firstProgressMs),
        firstRetrainMs: Math.round(first.ms.total),
        indexReadyMs: Math.round(indexReadyMs),
      },
    };
  } catch (err) {
    await stack?.close();
    throw err;
  }
}

/** The second retrain, and the repair after a writer died mid-count (a recount), checked against the kept counts. */
async function finish(p: Prepared, routes: RouteResult[]): Promise<SizeResult> {
  const again = await p.stack.trainer.flush(PROJECT);
  // The recount must find what the kept counts say after all the routes' writes (labels, undos, the deletion).
  const kept = await p.stack.stores.samples.counts(PROJECT);
  const t3 = performance.now();
  const recounted = await p.stack.stores.samples.recount(PROJECT);
  const recountMs = performance.now() - t3;
  const same = JSON.stringify(recounted) === JSON.stringify(kept);
  log(`${p.samples} samples: recount ${Math.round(recountMs)} ms; kept counts ${same ? 'equal' : 'DIFFER FROM'} the recount`);
  if (!same) log(`  kept ${JSON.stringify(kept)}\n  recount ${JSON.stringify(recounted)}`);
  const similar = await similarRecall(p.stack, p.samples, 20, 24);
  log(`${p.samples} samples: similar recall@24 ${similar.recall ?? 'n/a (exact)'} on ${similar.queries} samples`);
  const route = routes.find((r) => r.route === 'similar (24)');
  if (route) route.note = similar.recall === null ? 'exact (every row)' : `index; recall@24 ${similar.recall.toFixed(3)} (${similar.queries} samples)`;
  const { firstRetrainMs, indexReadyMs, ...rest } = p.partial;
  return {
    ...rest,
    retrain: { firstMs: firstRetrainMs, againMs: Math.round(again?.ms.total ?? NaN) },
    similar: { ...similar, indexReadyMs },
    recountMs: Math.round(recountMs),
    routes,
  };
}

/** Samples spread over the project, a different one at each call (every 200th image has no embedding: stepped around). */
function spreadSamples(samples: number): () => string {
  let q = 0;
  return () => {
    let i = (q++ * 104_729 + 12_345) % samples;
    if (i % 200 === 199) i--;
    return imageIdOf(i);
  };
}

/** Recall@k of the similar route's answer against every row compared, over `queries` samples spread over the project. */
async function similarRecall(stack: LocalStack, samples: number, queries: number, k: number) {
  if (samples <= EXACT_UP_TO) return { recall: null, queries };
  // A retrain may have compacted the shards (a new matrix): measure the index of the current one.
  await stack.trainer.similar(PROJECT, imageIdOf(0), k, { waitForIndex: true });
  let found = 0;
  for (let q = 0; q < queries; q++) {
    // Every 200th image failed at ingest (no embedding): step around them.
    let i = Math.floor(((q + 0.5) * samples) / queries);
    if (i % 200 === 199) i--;
    const id = imageIdOf(i);
    const [answer, exact] = await Promise.all([stack.trainer.similar(PROJECT, id, k), stack.trainer.similar(PROJECT, id, k, { exact: true })]);
    if (exact.length !== k) throw new Error(`the exact look-up of ${id} found ${exact.length} neighbours, not ${k}`);
    const truth = new Set(exact.map((n) => n.sampleId));
    found += answer.filter((n) => truth.has(n.sampleId)).length;
  }
  return { recall: Math.round((found / (queries * k)) * 1000) / 1000, queries };
}

const results: SizeResult[] = [];
const began = performance.now();
const prepared: Prepared[] = [];
try {
  for (const samples of sizes) prepared.push(await prepare(samples, await tempDir(`bench-scale-${samples}`)));
  // The sizes take turns, a round of every route each, so that load from elsewhere on the machine falls on all alike.
  const rounds: RouteResult[][][] = prepared.map(() => []);
  for (let round = 0; round < roundCount; round++) {
    for (const [k, p] of prepared.entries()) {
      log(`${p.samples} samples: routes, round ${round + 1} of ${roundCount}`);
      const last = round === roundCount - 1;
      rounds[k].push(
        await measureRoutes(p.stack, { projectId: PROJECT, requests: Math.ceil(requests / roundCount), classes: CLASSES, labelers: p.labelerIds, sampleId: p.sampleId, similarSampleOf: p.similarSampleOf, owner: last, routes: routeFilter, log }),
      );
    }
  }
  for (const [k, p] of prepared.entries()) {
    results.push(await finish(p, mergeRounds(rounds[k])));
    console.log(`\n### ${p.samples.toLocaleString('en-US')} samples\n`);
    console.log(sizeTable(results[results.length - 1]));
    const phased = results[results.length - 1].routes.find((r) => r.phases);
    if (phased) {
      console.log(`\n${phased.route}, by phase (ms per request; the tail: the requests at or above its p99 ${phased.p99} ms):\n`);
      console.log(markdownTable(['phase', 'p50 ms', 'p99 ms', 'share of the tail'], phased.phases!.map((x) => [x.phase, x.p50, x.p99, `${Math.round(x.tailShare * 100)}%`])));
      console.log(`\nslowest: ${phased.slowest!.join('; ')}`);
    }
  }
} finally {
  for (const p of prepared) {
    await p.stack.close();
    await rm(p.dataDir, { recursive: true, force: true });
  }
}

if (results.length > 1) {
  const [small, large] = [results[0], results[results.length - 1]];
  console.log(`\n### growth ${small.samples.toLocaleString('en-US')} -> ${large.samples.toLocaleString('en-US')} samples\n`);
  console.log(growthTable(small, large));
}
console.log(`\nwhole run: ${((performance.now() - began) / 60_000).toFixed(1)} min`);
await mkdir(outDir, { recursive: true });
await writeFile(path.join(outDir, 'scale.json'), `${JSON.stringify({ labels, dims, requests, routes: routeFilter, results }, null, 2)}\n`);
log(`wrote ${path.relative(REPO_ROOT, path.join(outDir, 'scale.json'))}`);

function sizeTable(r: SizeResult): string {
  const rows: (string | number)[][] = r.routes.map((x) => [x.route, x.who, x.count, x.p50, x.p99, x.storeCalls, x.calls, x.note ?? '']);
  rows.push(['retrain (trainer, first / again)', 'trainer', 2, r.retrain.firstMs, r.retrain.againMs, '-', 'labeled heads (annotations index) + shards', '']);
  rows.push(['similar index (trainer, background)', 'trainer', 1, r.similar.indexReadyMs, r.similar.indexReadyMs, '-', '-', r.similar.recall === null ? 'none: exact up to 50k' : 'ready after the first retrain']);
  rows.push(['npm start restart', 'owner', 1, r.restartMs, r.restartMs, '-', '-', `first progress ${r.firstProgressMs} ms`]);
  rows.push(['counts repair (recount)', 'store', 1, r.recountMs, r.recountMs, '-', 'every image and sample record', 'only after a writer died']);
  rows.push(['seed (dynalite folder)', 'bench', 1, r.seed.dynamoMs, r.seed.dynamoMs, '-', `${r.seed.dynamoItems} items`, `shards ${r.seed.embeddingsMs} ms`]);
  return markdownTable(['route', 'who', 'n', 'p50 ms', 'p99 ms', 'store calls/req', 'calls (per request)', 'note'], rows);
}

function growthTable(small: SizeResult, large: SizeResult): string {
  const rows = small.routes.map((s) => {
    const l = large.routes.find((x) => x.route === s.route);
    if (!l) return [s.route, s.who, s.p99, '-', '-', s.storeCalls, '-', ''];
    const growth = l.p99 / Math.max(s.p99, 0.1);
    const target = s.who === 'labeler' ? (growth <= 2 ? 'ok (<= 2x)' : 'OVER 2x') : '';
    return [s.route, s.who, s.p99, l.p99, `${growth.toFixed(2)}x`, s.storeCalls, l.storeCalls, target];
  });
  rows.push(['similar recall@24', 'trainer', small.similar.recall ?? 'exact', large.similar.recall ?? 'exact', '-', '-', '-', '']);
  rows.push(['retrain (first)', 'trainer', small.retrain.firstMs, large.retrain.firstMs, `${(large.retrain.firstMs / small.retrain.firstMs).toFixed(2)}x`, '-', '-', '']);
  rows.push(['npm start restart', 'owner', small.restartMs, large.restartMs, `${(large.restartMs / small.restartMs).toFixed(2)}x`, '-', '-', '']);
  rows.push(['counts repair (recount)', 'store', small.recountMs, large.recountMs, `${(large.recountMs / small.recountMs).toFixed(2)}x`, '-', '-', '']);
  return markdownTable(['route', 'who', `p99 ms ${small.samples}`, `p99 ms ${large.samples}`, 'growth', 'calls/req small', 'calls/req large', 'target'], rows);
}

/** A sample's vector: its topic's point, 0.7 of its sub-topic's, 0.5 of its own noise (deterministic per sample). */
function topicVector(d: number, i: number): Float32Array {
  const h = (i * 2246822519) >>> 0;
  const topic = h % TOPICS;
  const sub = Math.floor(h / TOPICS) % SUBTOPICS;
  const a = pointOf(1_000_000_000 + topic);
  const b = pointOf(2_000_000_000 + topic * SUBTOPICS + sub);
  const noise = unitVector(d, i);
  const v = new Float32Array(d);
  for (let k = 0; k < d; k++) v[k] = a[k] + 0.7 * b[k] + 0.5 * noise[k];
  return v;
}

/** A deterministic unit vector per seed (cheap: no RNG state to carry between shards). */
function unitVector(d: number, seed: number): Float32Array {
  const v = new Float32Array(d);
  let x = (seed * 2654435761) >>> 0;
  let norm = 0;
  for (let i = 0; i < d; i++) {
    x = (x * 1664525 + 1013904223) >>> 0;
    v[i] = x / 2 ** 32 - 0.5;
    norm += v[i] * v[i];
  }
  norm = Math.sqrt(norm);
  for (let i = 0; i < d; i++) v[i] /= norm;
  return v;
}

