// The gallery as a data manager, through the API: every filter (class, labeler, source, confidence range, ambiguous,
// model disagrees, unlabeled) returns exactly the samples it names, key-paged with any filter (small pages walk the
// whole set once, no repeats), sorted by confidence, with counts per filter value that match what the filters return.
// Labels are written through the annotate route as a labeler's app writes them; auto-labels and the trainer's
// suspects are stored as the auto-label run and the trainer store them.

import { beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { localAuthenticate } from '../../functions/api/auth-local.js';
import { createApp } from '../../functions/api/app.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import type { Stores } from '../../functions/domain/ports.js';
import { createProject } from '../../functions/domain/projects.js';
import { ManualClock, sampleFixture } from '../support/fixtures.js';

const PROJECT = 'meadow';
const CLASSES = ['daisy', 'rose', 'tulip'];
const N = 40;

describe('gallery filters, paging and counts', () => {
  let stores: Stores;
  let app: ReturnType<typeof createApp>;
  const id = (n: number) => `s${n}`;
  /** What each labeled sample got, to compare the filters with. */
  const given = new Map<string, { cls: number; by: string; confidence: number; ambiguous: boolean; source: 'labeler' | 'model' }>();

  async function call(method: string, path: string, body?: unknown, user = 'olga') {
    const res = await app.request(path, {
      method,
      headers: { 'x-winnow-user': user, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, json: (await res.json()) as any };
  }

  beforeAll(async () => {
    stores = createMemoryStores(new ManualClock(Date.now()));
    app = createApp({ stores, featureVectors: shardFeatureVectors(stores.blobs, stores.clock), authenticate: localAuthenticate });
    await createProject(stores, { id: PROJECT, classes: CLASSES, confidenceLevels: [0, 0.5, 1], allowAmbiguous: true }, 'olga');
    // 1..3: auto-labeled by the model (as an auto-label batch writes them).
    const modelLabel = (n: number) => ({
      label: { confidences: [0, 0, 1], ambiguous: false, labelerId: 'model', at: '2026-11-22T09:30:00.000Z', source: 'model' as const, modelConfidence: 0.9 + n / 100, batchId: 'b1' },
      labeledBy: ['model'],
      queueKey: undefined,
      version: 1,
    });
    await stores.samples.putSamplesIfAbsent(Array.from({ length: N }, (_, i) => sampleFixture(PROJECT, i + 1, i < 3 ? modelLabel(i + 1) : {})));
    for (let n = 1; n <= 3; n++) given.set(id(n), { cls: 2, by: 'model', confidence: 0.9 + n / 100, ambiguous: false, source: 'model' });
    // 4..18 by ann (every 5th ambiguous, every 4th at 50 %), 19..24 by bob.
    for (let n = 4; n <= 24; n++) {
      const by = n <= 18 ? 'ann' : 'bob';
      const cls = n % 3;
      const half = n % 4 === 0;
      const ambiguous = n % 5 === 0;
      const confidences = CLASSES.map((_, c) => (c === cls ? (half ? 0.5 : 1) : 0));
      const res = await call('POST', `/api/projects/${PROJECT}/samples/${id(n)}/annotations`, { version: 0, requestId: `req-${n}-abcdef`, confidences, ambiguous }, by);
      expect(res.status, JSON.stringify(res.json)).toBe(201);
      given.set(id(n), { cls, by, confidence: half ? 0.5 : 1, ambiguous, source: 'labeler' });
    }
    // The trainer contradicts two of ann's labels (s6 and s7) and ranks the unlabeled rest with probabilities.
    const unlabeled = Array.from({ length: N - 24 }, (_, i) => id(25 + i));
    await stores.rankings.put({
      projectId: PROJECT, generation: 1, createdAt: '2026-11-22T10:00:00.000Z', strategy: 's', coldStart: false, labels: 21, classes: 3,
      sampleIds: unlabeled,
      probs: Float32Array.from(unlabeled.flatMap((_, i) => [0.2 + i / 100, 0.1, 0.7 - i / 100])),
      suspects: [
        { sampleId: 's6', givenClass: given.get('s6')!.cls, givenProbability: 0.05, predictedClass: 1, predictedProbability: 0.9 },
        { sampleId: 's7', givenClass: given.get('s7')!.cls, givenProbability: 0.1, predictedClass: 2, predictedProbability: 0.8 },
      ],
    });
  });

  /** Every item of a filter, walking the cursors with small pages. */
  async function all(query: string, limit = 4) {
    const items: any[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const q = `${query}${query ? '&' : ''}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await call('GET', `/api/projects/${PROJECT}/gallery?${q}`);
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      items.push(...res.json.items);
      cursor = res.json.cursor;
      pages++;
    } while (cursor && pages < 100);
    return items;
  }
  const ids = (items: any[]) => items.map((i) => i.sampleId).sort();
  const expected = (f: (g: NonNullable<ReturnType<typeof given.get>>, sampleId: string) => boolean) =>
    [...given].filter(([sid, g]) => f(g, sid)).map(([sid]) => sid).sort();

  it('tiles say what each sample is labeled, by whom, how sure, and what the model says', async () => {
    const items = await all('');
    expect(items).toHaveLength(N);
    expect(new Set(ids(items)).size).toBe(N);
    const s4 = items.find((i) => i.sampleId === 's4');
    expect(s4.label).toMatchObject({ class: CLASSES[4 % 3], source: 'labeler', labelerId: 'ann', confidence: 0.5, ambiguous: false });
    expect(items.find((i) => i.sampleId === 's2').label).toMatchObject({ class: 'tulip', source: 'model', confidence: 0.92 });
    expect(items.find((i) => i.sampleId === 's6')).toMatchObject({ disagrees: true, model: { class: 'rose', probability: 0.9 } });
    expect(items.find((i) => i.sampleId === 's25')).toMatchObject({ model: { class: 'tulip' } });
    expect(items.find((i) => i.sampleId === 's25').label).toBeUndefined();
    expect(decodeURIComponent(s4.thumbUrl)).toContain('derived/meadow/i4/thumb.webp');
  });

  it('each filter returns exactly the samples it names, page after page', async () => {
    expect(ids(await all('class=rose'))).toEqual(expected((g) => g.cls === 1));
    expect(ids(await all('labeler=bob'))).toEqual(expected((g) => g.by === 'bob'));
    expect(ids(await all('source=model'))).toEqual(['s1', 's2', 's3']);
    expect(ids(await all('ambiguous=true'))).toEqual(expected((g) => g.ambiguous));
    expect(ids(await all('disagrees=true'))).toEqual(['s6', 's7']);
    expect(ids(await all('unlabeled=true', 5))).toEqual(Array.from({ length: N - 24 }, (_, i) => id(25 + i)).sort());
    expect(ids(await all('minConfidence=0.4&maxConfidence=0.6&source=labeler'))).toEqual(expected((g) => g.confidence === 0.5));
    expect(ids(await all('class=daisy&labeler=ann&ambiguous=false', 1))).toEqual(expected((g) => g.cls === 0 && g.by === 'ann' && !g.ambiguous));
  });

  it('sorts by confidence across pages', async () => {
    const asc = await all('sort=confidence-asc&unlabeled=false', 5);
    const values = asc.map((i) => i.label.confidence);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(asc).toHaveLength(given.size);
    const desc = await all('sort=confidence-desc&source=model', 2);
    expect(desc.map((i) => i.sampleId)).toEqual(['s3', 's2', 's1']);
  });

  it('counts per filter value agree with what the filters return', async () => {
    const res = await call('GET', `/api/projects/${PROJECT}/gallery/counts`);
    expect(res.status).toBe(200);
    const counts = res.json;
    expect(counts.total).toBe(N);
    expect(counts.unlabeled).toBe(N - given.size);
    expect(counts.disagrees).toBe(2);
    expect(counts.ambiguous).toBe((await all('ambiguous=true')).length);
    for (const c of counts.byClass) expect(c.count, c.class).toBe((await all(`class=${c.class}`, 50)).length);
    const byLabeler = Object.fromEntries(counts.byLabeler.map((l: any) => [l.labelerId, l.count]));
    expect(byLabeler).toMatchObject({ ann: 15, bob: 6 });
  });

  it('refuses bad filters with a reason that names the problem', async () => {
    const unknown = await call('GET', `/api/projects/${PROJECT}/gallery?class=orchid`);
    expect(unknown.status).toBe(400);
    expect(unknown.json).toMatchObject({ field: 'class' });
    expect(unknown.json.message).toMatch(/orchid.*daisy, rose, tulip/);
    const range = await call('GET', `/api/projects/${PROJECT}/gallery?minConfidence=0.8&maxConfidence=0.2`);
    expect(range.status).toBe(400);
    expect(range.json.message).toMatch(/minConfidence/);
    const cursor = await call('GET', `/api/projects/${PROJECT}/gallery?cursor=nonsense`);
    expect(cursor.status).toBe(400);
    expect(cursor.json.field).toBe('cursor');
    // A cursor edited by hand (well-formed, wrong inside) is still the caller's mistake, not a server error.
    const edited = Buffer.from(JSON.stringify({ c: 12, n: 'x', s: -1 })).toString('base64url');
    expect((await call('GET', `/api/projects/${PROJECT}/gallery?cursor=${edited}`)).status).toBeLessThan(500);
    const forged = Buffer.from(JSON.stringify({ c: 'not-a-store-cursor', n: 5, s: 0 })).toString('base64url');
    const forgedRes = await call('GET', `/api/projects/${PROJECT}/gallery?cursor=${forged}`);
    expect(forgedRes.status).toBe(400);
    const sort = await call('GET', `/api/projects/${PROJECT}/gallery?sort=size`);
    expect(sort.status).toBe(400);
    expect(sort.json.field).toBe('sort');
    expect((await call('GET', '/api/projects/nowhere/gallery')).status).toBe(404);
  });
});
