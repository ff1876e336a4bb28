// The gallery's sorted listings ("least/most confident first", "recently labeled") through the API, on a project
// whose ranking is older than some labels and some uploads: every sample appears once, in exactly the order the owner
// was promised (confidence of the label, else the model's top probability as the tile shows it; samples the model
// has not seen yet last), with any filter, page after page; and a page costs the labels and the page, not the
// project (it used to read every sample head, and refused above 200k samples).

import { beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { localAuthenticate } from '../../functions/api/auth-local.js';
import { createApp } from '../../functions/api/app.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import type { Stores } from '../../functions/domain/ports.js';
import { createProject } from '../../functions/domain/projects.js';
import { ManualClock, sampleFixture } from '../support/fixtures.js';

const PROJECT = 'orchard';
const CLASSES = ['apple', 'pear', 'plum'];
const N = 3000;
/** Samples uploaded after the ranking (no model view yet). */
const LATE = 40;

/** A small deterministic generator (mulberry32). */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('sorted gallery listings', () => {
  let stores: Stores;
  let app: ReturnType<typeof createApp>;
  let headsRead = 0;
  const id = (n: number) => `s${n}`;
  /** What the owner should see per sample: label (confidence, class, time) or the model's view. */
  const truth = new Map<string, { labeled?: { confidence: number; cls: number; at: string }; model?: number }>();

  async function call(path: string) {
    const res = await app.request(path, { headers: { 'x-winnow-user': 'olga' } });
    return { status: res.status, json: (await res.json()) as any };
  }

  beforeAll(async () => {
    const clock = new ManualClock(Date.parse('2026-12-01T08:00:00Z'));
    stores = createMemoryStores(clock);
    await createProject(stores, { id: PROJECT, classes: CLASSES, confidenceLevels: [0, 0.5, 1], auditRate: 0 }, 'olga');
    await stores.samples.putSamplesIfAbsent(Array.from({ length: N }, (_, i) => sampleFixture(PROJECT, i + 1)));
    for (let n = 1; n <= N; n++) truth.set(id(n), {});
    // Count the sample heads the gallery reads.
    const samples = stores.samples;
    const counted = Object.create(samples) as typeof samples;
    counted.listSamples = async (...args) => {
      const page = await samples.listSamples(...args);
      headsRead += page.items.length;
      return page;
    };
    counted.getSamples = async (...args) => {
      const got = await samples.getSamples(...args);
      headsRead += got.length;
      return got;
    };
    stores = { ...stores, samples: counted };
    app = createApp({ stores, featureVectors: shardFeatureVectors(stores.blobs, stores.clock), authenticate: localAuthenticate });

    const rnd = random(7);
    const label = async (n: number, who: string) => {
      const cls = Math.floor(rnd() * 3);
      const half = rnd() < 0.3;
      const res = await app.request(`/api/projects/${PROJECT}/samples/${id(n)}/annotations`, {
        method: 'POST',
        headers: { 'x-winnow-user': who, 'content-type': 'application/json' },
        body: JSON.stringify({ version: 0, requestId: `req-${n}-abcdef`, confidences: CLASSES.map((_, c) => (c === cls ? (half ? 0.5 : 1) : 0)) }),
      });
      expect(res.status).toBe(201);
      truth.get(id(n))!.labeled = { confidence: half ? 0.5 : 1, cls, at: new Date(clock.now()).toISOString() };
      // Some labels share a time (ties are broken by sample id).
      if (rnd() < 0.7) clock.advance(1000);
    };
    // 50 labels before the ranking, spread over the project.
    for (let k = 0; k < 50; k++) await label(1 + k * 53, k % 2 ? 'ann' : 'bob');
    // The ranking holds every unlabeled sample but the late uploads; a few rows name no class (all zero).
    const ranked = [...truth].filter(([sid, t]) => !t.labeled && Number(sid.slice(1)) <= N - LATE).map(([sid]) => sid);
    const probs = new Float32Array(ranked.length * 3);
    ranked.forEach((sid, r) => {
      if (r % 97 === 5) return;
      // Coarse values so that many rows tie on the 4-decimal probability the tile shows.
      const p = [rnd(), rnd(), rnd()].map((x) => Math.round(x * 20) + 1);
      const sum = p.reduce((a, b) => a + b, 0);
      p.forEach((x, c) => (probs[r * 3 + c] = x / sum));
    });
    await stores.rankings.put({ projectId: PROJECT, generation: 4, createdAt: new Date(clock.now()).toISOString(), strategy: 's', coldStart: false, labels: 50, classes: 3, sampleIds: ranked, probs });
    // The tile shows the stored probability (kept at half precision), rounded to 4 decimals.
    const stored = (await stores.rankings.get(PROJECT))!.probs!;
    ranked.forEach((sid, r) => {
      const row = [0, 1, 2].map((c) => stored[r * 3 + c]);
      if (Math.max(...row) > 0) truth.get(sid)!.model = Math.round(Math.max(...row) * 1e4) / 1e4;
    });
    // 10 labels after the ranking, some on ranked samples (the ranking still lists them), some on late uploads.
    for (let k = 0; k < 10; k++) await label(k < 7 ? 20 + k * 301 : N - k, 'ann');
  });

  /** Every item of a listing, walking the cursors with small pages. */
  async function all(query: string, limit = 37) {
    const items: any[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 2000; pages++) {
      const res = await call(`/api/projects/${PROJECT}/gallery?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      items.push(...res.json.items);
      cursor = res.json.cursor;
      if (!cursor) break;
    }
    return items.map((i) => i.sampleId as string);
  }

  /** The promised order, from the test's own record of labels and the ranking. */
  function expected(sort: string, keep: (t: ReturnType<typeof truth.get> & object) => boolean) {
    const conf = (t: ReturnType<typeof truth.get> & object) => t.labeled?.confidence ?? t.model;
    const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    const rows = [...truth].filter(([, t]) => keep(t));
    if (sort === 'recent') {
      const labeled = rows.filter(([, t]) => t.labeled).sort(([a, x], [b, y]) => (x.labeled!.at < y.labeled!.at ? 1 : x.labeled!.at > y.labeled!.at ? -1 : byId(a, b)));
      return [...labeled, ...rows.filter(([, t]) => !t.labeled).sort(([a], [b]) => byId(a, b))].map(([sid]) => sid);
    }
    const sign = sort === 'confidence-asc' ? 1 : -1;
    const viewed = rows.filter(([, t]) => conf(t) !== undefined).sort(([a, x], [b, y]) => sign * (conf(x)! - conf(y)!) || byId(a, b));
    return [...viewed, ...rows.filter(([, t]) => conf(t) === undefined).sort(([a], [b]) => byId(a, b))].map(([sid]) => sid);
  }

  for (const sort of ['confidence-asc', 'confidence-desc', 'recent']) {
    it(`${sort}: every sample once, in the promised order`, async () => {
      expect(await all(`sort=${sort}`, 97)).toEqual(expected(sort, () => true));
    });
    it(`${sort}: with filters`, async () => {
      expect(await all(`sort=${sort}&unlabeled=true`)).toEqual(expected(sort, (t) => !t.labeled));
      expect(await all(`sort=${sort}&class=pear`)).toEqual(expected(sort, (t) => t.labeled?.cls === 1));
      const within = (t: ReturnType<typeof truth.get> & object) => {
        const c = t.labeled?.confidence ?? t.model;
        return c !== undefined && c >= 0.45 && c <= 0.6;
      };
      expect(await all(`sort=${sort}&minConfidence=0.45&maxConfidence=0.6`, 11)).toEqual(expected(sort, within));
    });
  }

  it('a page reads the labeled samples and the page, not the project', async () => {
    for (const sort of ['confidence-asc', 'confidence-desc', 'recent']) {
      headsRead = 0;
      const res = await call(`/api/projects/${PROJECT}/gallery?sort=${sort}&limit=50`);
      expect(res.json.items).toHaveLength(50);
      // 60 labeled heads, the ranked candidates of the page; a whole read would be 3000.
      expect(headsRead, sort).toBeLessThan(60 + 200);
    }
  });
});
