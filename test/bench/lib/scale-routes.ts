// The routes bench:scale times, one request at a time against a running local stack: what labelers do (next,
// annotate, undo, progress, history, quality, agreement, similar) and what owners do (gallery pages with each filter
// and sort, the images list by status, mislabeled, an export job, a deletion job). Each route's store calls are
// counted over its requests (store-calls.ts wraps the stack's stores in place).

import type { LocalStack } from '../../../functions/local/stack.js';
import { summarize } from './latency.js';
import { routePhases, slowestRequests, summarizePhases, type PhasedRequest, type PhaseRow } from './route-phases.js';
import { recordStoreCalls } from './store-calls.js';

export interface RouteResult {
  route: string;
  who: 'labeler' | 'owner';
  count: number;
  p50: number;
  p99: number;
  /** Store calls per request (every port method the API called). */
  storeCalls: number;
  /** The calls, most frequent first, per request. */
  calls: string;
  note?: string;
  /** Every request's time (rounds of the same route are merged from these). */
  ms: number[];
  /** Where the time went, request by request and phase by phase (the similar route). */
  phased?: PhasedRequest[];
  phases?: PhaseRow[];
  /** The slowest requests by phase. */
  slowest?: string[];
}

export interface RouteOptions {
  projectId: string;
  requests: number;
  classes: number;
  labelers: string[];
  /** A labeled sample (similar's warm-up). */
  sampleId: string;
  /** The sample the i-th similar request asks about: a different one each, as a labeler browsing look-alikes would
   * (asking about one sample again and again finds its answer's image records in the API's cache). */
  similarSampleOf: () => string;
  /** Only the routes whose name contains one of these (and the labeling routes they need); all when absent. */
  routes?: string[];
  /** The owner's routes and jobs too (once per project: the deletion removes images); else the labelers' only. */
  owner: boolean;
  log: (line: string) => void;
}

const WARMUP = 3;
/** The ports' own methods: the adapters' private helpers are timed too (store-calls.ts wraps every method), not counted. */
const PORT_METHODS = new Set([
  ...['create', 'get', 'list', 'update', 'delete'].map((m) => `projects.${m}`),
  ...['putImageIfAbsent', 'putImage', 'getImage', 'getImages', 'listImages', 'putSamplesIfAbsent', 'putIngested', 'getSample', 'getSamples', 'listSamples', 'queue', 'lease', 'advance', 'setProposals', 'listSamplesOfImage', 'deleteImage', 'deleteSample', 'deleteMany', 'counts', 'recount'].map((m) => `samples.${m}`),
  ...['get', 'put', 'delete'].map((m) => `rankings.${m}`),
  ...['append', 'get', 'listForSample', 'newestServed', 'listForProject', 'delete', 'deleteMany'].map((m) => `annotations.${m}`),
  ...['get', 'list', 'recordLabel', 'recordUndo', 'delete'].map((m) => `labelers.${m}`),
  ...['put', 'get', 'head', 'delete', 'deleteMany', 'list', 'presignGet', 'presignPut'].map((m) => `blobs.${m}`),
]);
let requestSeq = 0;
const requestId = () => `scale-${Date.now().toString(36)}-${++requestSeq}`;

export async function measureRoutes(stack: LocalStack, opts: RouteOptions): Promise<RouteResult[]> {
  const base = `${stack.url}/api/projects/${opts.projectId}`;
  const recorder = recordStoreCalls(stack.stores);
  const results: RouteResult[] = [];
  const call = async (method: string, url: string, user: string, body?: unknown, expect = [200, 201, 202]) => {
    const res = await fetch(url, {
      method,
      headers: { 'x-winnow-user': user, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!expect.includes(res.status)) throw new Error(`${method} ${url.replace(stack.url, '')} as ${user}: ${res.status} ${text.slice(0, 300)}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };

  /** Times `n` requests made by `once(i)` (after a few unmeasured ones), with their store calls. */
  const wanted = (...routes: string[]) => !opts.routes || routes.some((r) => opts.routes!.some((w) => r.includes(w)));
  // The labeling routes serve each other: annotate labels what next served, undo takes back what annotate labeled.
  const needed = (route: string) => wanted(route) || (route === 'next sample' && wanted('annotate', 'undo')) || (route === 'annotate' && wanted('undo'));
  const measure = async (route: string, who: RouteResult['who'], n: number, once: (i: number) => Promise<unknown>, note?: string, phases?: ReturnType<typeof routePhases>) => {
    if (!needed(route)) return;
    for (let i = 0; i < Math.min(WARMUP, n - 1); i++) await once(-1 - i);
    await recorder.settled(50);
    recorder.start();
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      phases?.begin();
      const t0 = performance.now();
      await once(i);
      ms.push(performance.now() - t0);
      phases?.end(ms[ms.length - 1]);
    }
    await recorder.settled(50);
    const store = recorder.stop();
    store.calls = store.calls.filter((c) => PORT_METHODS.has(c.call));
    const total = store.calls.reduce((a, c) => a + c.calls, 0);
    const s = summarize(ms);
    const calls = store.calls
      .slice(0, 4)
      .map((c) => `${c.call} ${round(c.calls / n)} (${c.meanMs} ms)`)
      .join(', ');
    const requests = phases?.requests();
    const phased = requests ? { phased: requests, phases: summarizePhases(requests), slowest: slowestRequests(requests, 3) } : {};
    results.push({ route, who, count: n, p50: s.p50, p99: s.p99, storeCalls: round(total / n), calls, ...(note ? { note } : {}), ms, ...phased });
    opts.log(`  ${route}: p50 ${s.p50} ms, p99 ${s.p99} ms, ${round(total / n)} store calls/request (${calls})`);
    if (phased.phases) opts.log(`    phases p50/p99 ms (share of the tail): ${phased.phases.map((p) => `${p.phase} ${p.p50}/${p.p99} (${p.tailShare})`).join(', ')}`);
    for (const line of phased.slowest ?? []) opts.log(`    slow: ${line}`);
  };

  // Labeling: next -> annotate, every fourth label undone right after.
  const n = opts.requests;
  const served: { user: string; sampleId: string; version: number }[] = [];
  // A labeler per request: each next then leases a sample of its own (one labeler asking again gets the same one).
  await measure('next sample', 'labeler', n, async (i) => {
    const user = `scale-labeler-${i + WARMUP}`;
    const out = (await call('GET', `${base}/next?count=1`, user)) as { samples: { sample: { sampleId: string; version: number } }[] };
    const s = out.samples[0]?.sample;
    if (!s) throw new Error('next served nothing');
    served.push({ user, sampleId: s.sampleId, version: s.version });
  });
  const labeled: string[] = [];
  await measure('annotate', 'labeler', n, async (i) => {
    const s = served.shift();
    if (!s) throw new Error('nothing left to annotate');
    await call('POST', `${base}/samples/${s.sampleId}/annotations`, s.user, { version: s.version, classIndex: Math.abs(i) % opts.classes, requestId: requestId() });
    labeled.push(s.user);
  });
  await measure('undo', 'labeler', Math.floor(n / 4), async () => {
    const user = labeled.shift();
    if (!user) throw new Error('nothing left to undo');
    await call('POST', `${base}/undo`, user, { requestId: requestId() });
  });
  const member = opts.labelers[0];
  await measure('progress', 'labeler', n, () => call('GET', `${base}/progress`, member));
  await measure('history (50)', 'labeler', n, () => call('GET', `${base}/history?limit=50`, member));
  await measure('quality', 'labeler', Math.ceil(n / 4), () => call('GET', `${base}/quality`, member), 'kept sums + newest 2049 served labels');
  // The similar route's phases: the trainer process's look-up (IPC included) and the store reads under the API's caches.
  const samples = stack.stores.samples;
  const phases = routePhases({
    'sample read': [samples, 'getSample'],
    search: [stack.trainer, 'similar'],
    'sample records': [samples, 'getSamples'],
    'image records': [samples, 'getImage'],
    'image records (batch)': [samples, 'getImages'],
  });
  try {
    await measure('similar (24)', 'labeler', Math.ceil(n / 4), async (i) => call('GET', `${base}/samples/${i < 0 ? opts.sampleId : opts.similarSampleOf()}/similar?k=24`, member), undefined, phases);
  } finally {
    phases.restore();
  }

  if (!opts.owner) return results;
  // Owners: the gallery, first page and the page after, with each filter and sort.
  const galleryPages = async (query: string) => {
    const first = (await call('GET', `${base}/gallery?limit=100${query}`, 'owner')) as { cursor?: string };
    if (first.cursor) await call('GET', `${base}/gallery?limit=100${query}&cursor=${encodeURIComponent(first.cursor)}`, 'owner');
  };
  const filters: [string, string][] = [
    ['gallery: no filter', ''],
    ['gallery: class', '&class=class-1'],
    ['gallery: labeler', `&labeler=${opts.labelers[1]}`],
    ['gallery: source=labeler', '&source=labeler'],
    ['gallery: confidence 0.9-1', '&minConfidence=0.9&maxConfidence=1'],
    ['gallery: ambiguous', '&ambiguous=true'],
    ['gallery: model disagrees', '&disagrees=true'],
    ['gallery: unlabeled', '&unlabeled=true'],
    ['gallery: kind=box (none)', '&kind=box'],
  ];
  const sorts: [string, string][] = [
    ['gallery: sort recent', '&sort=recent'],
    ['gallery: sort confidence', '&sort=confidence-asc'],
  ];
  const galleryN = Math.max(5, Math.ceil(n / 10));
  for (const [route, query] of filters) await measure(route, 'owner', galleryN, () => galleryPages(query), '2 pages of 100');
  // Sorted listings read the labeled samples and take the unlabeled ones in the ranking's order (they refuse with a 400
  // only above 200k labeled samples). A few requests each.
  for (const [route, query] of sorts) {
    let refused = false;
    await measure(route, 'owner', 3, async () => {
      const out = await call('GET', `${base}/gallery?limit=100${query}`, 'owner', undefined, [200, 400]);
      refused = out.code === 'bad_request';
    });
    results[results.length - 1].note = refused ? 'refused (400): over 200k samples' : 'first page of 100';
  }
  await measure('gallery counts', 'owner', galleryN, () => call('GET', `${base}/gallery/counts`, 'owner'));
  await measure('images: status=failed', 'owner', galleryN, async () => {
    const first = (await call('GET', `${base}/images?status=failed&limit=100`, 'owner')) as { cursor?: string };
    if (first.cursor) await call('GET', `${base}/images?status=failed&limit=100&cursor=${encodeURIComponent(first.cursor)}`, 'owner');
  }, '2 pages; 1 in 200 images');
  await measure('mislabeled', 'owner', galleryN, () => call('GET', `${base}/review/mislabeled`, 'owner'));
  await measure('agreement', 'owner', Math.ceil(n / 4), () => call('GET', `${base}/agreement`, 'owner'));

  // Jobs: an export of every sample (CSV, no image files) and a deletion of 100 images.
  let exportNote = '';
  await measure('export job (csv, all samples)', 'owner', 1, async (i) => {
    if (i < 0) return;
    const t0 = performance.now();
    const started = (await call('POST', `${base}/exports`, 'owner', { format: 'csv', include: 'all', images: false })) as { exportId: string };
    const status = await poll(() => call('GET', `${base}/exports/${started.exportId}`, 'owner'), (s) => s.state === 'done' || s.state === 'failed');
    if (status.state !== 'done') throw new Error(`export ${status.state}: ${String(status.reason)}`);
    const counts = status.counts as { images: number; labels: number };
    const seconds = (performance.now() - t0) / 1000;
    exportNote = `${counts.images} rows, ${Math.round(counts.images / seconds)} rows/s`;
  });
  results[results.length - 1].note = exportNote;
  let deletionNote = '';
  await measure('deletion job (100 images)', 'owner', 1, async (i) => {
    if (i < 0) return;
    const t0 = performance.now();
    const imageIds = Array.from({ length: 100 }, (_, k) => `scale${String(1000 + k * 7).padStart(19, '0')}`);
    const job = (await call('POST', `/api/projects/${opts.projectId}/deletions`.replace(/^/, stack.url), 'owner', { imageIds })) as { jobId: string };
    const status = await poll(() => call('GET', `${stack.url}/api/projects/${opts.projectId}/deletions/${job.jobId}`, 'owner'), (s) => s.status === 'done' || s.status === 'failed');
    if (status.status !== 'done') throw new Error(`deletion ${status.status}: ${String(status.error)}`);
    deletionNote = `${Math.round(100 / ((performance.now() - t0) / 1000))} images/s`;
  });
  results[results.length - 1].note = deletionNote;
  return results;
}

/** Polls a job's status until `done`; a status read that fails (a 5xx under the job's own load) is read again. */
async function poll(read: () => Promise<Record<string, unknown>>, done: (s: Record<string, unknown>) => boolean, timeoutMs = 30 * 60_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (let failures = 0; ; ) {
    let s: Record<string, unknown>;
    try {
      s = await read();
    } catch (err) {
      if (!/: 5\d\d /.test((err as Error).message) || ++failures > 20) throw err;
      process.stderr.write(`  status read failed (${failures}), reading again: ${(err as Error).message.slice(0, 160)}\n`);
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    if (done(s)) return s;
    if (Date.now() > deadline) throw new Error('timed out waiting for a job');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const round = (x: number) => Math.round(x * 10) / 10;

/** One result per route from several rounds of the same routes (their requests together; calls per request averaged). */
export function mergeRounds(rounds: RouteResult[][]): RouteResult[] {
  const merged: RouteResult[] = [];
  for (const first of rounds[0]) {
    const same = rounds.map((r) => r.find((x) => x.route === first.route)).filter((x): x is RouteResult => x !== undefined);
    const ms = same.flatMap((x) => x.ms);
    const s = summarize(ms);
    const storeCalls = round(same.reduce((a, x) => a + x.storeCalls * x.count, 0) / ms.length);
    const phased = same.some((x) => x.phased) ? same.flatMap((x) => x.phased ?? []) : undefined;
    const phases = phased ? { phased, phases: summarizePhases(phased), slowest: slowestRequests(phased, 3) } : {};
    merged.push({ ...first, count: ms.length, p50: s.p50, p99: s.p99, storeCalls, note: same.map((x) => x.note).find(Boolean), ms, ...phases });
  }
  for (const r of rounds.slice(1)) for (const x of r) if (!merged.some((m) => m.route === x.route)) merged.push(x);
  return merged;
}
