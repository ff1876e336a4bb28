// POST /api/projects/:projectId/imports on the in-memory stores: admins only, shape errors name the field, a
// failed report is a 400 carrying the whole report, a clean one is applied and triggers retraining.

import { describe, expect, it } from 'vitest';
import { createApp } from '../../functions/api/app.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import { fixture } from './support.js';

async function setup() {
  const f = await fixture();
  const a = await f.image('JPEGImages/a.jpg');
  const retrains: string[][] = [];
  const app = createApp({
    stores: f.stores,
    featureVectors: shardFeatureVectors(f.stores.blobs, f.stores.clock),
    authenticate: async (req) => {
      const user = req.headers.get('x-user') ?? 'olga';
      return { userId: user, groups: user === 'olga' ? ['admin'] : ['labeler'] };
    },
    onLabeled: (_p, ids) => retrains.push(ids),
  });
  const post = async (body: unknown, user = 'olga') => {
    const res = await app.request('/api/projects/cells/imports', {
      method: 'POST',
      headers: { 'x-user': user, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as any };
  };
  return { f, a, post, retrains };
}

const items = [{ source: 'a.xml', file: 'a.jpg', boxes: [{ source: 'object 1', class: 'RBC', box: [1, 2, 30, 40] }] }];

describe('POST /imports', () => {
  it('applies a clean import, answers the report and retrains', async () => {
    const { f, a, post, retrains } = await setup();
    const res = await post({ mode: 'labels', items });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ ok: true, applied: true, dryRun: false, mode: 'labels', summary: { items: 1, boxes: 1, labels: 1, failed: 0 } });
    expect(res.json.rows).toEqual([{ source: 'a.xml', file: 'a.jpg', image: 'JPEGImages/a.jpg', ok: true, action: 'label: 1 box' }]);
    expect(retrains).toEqual([[a]]);
    expect((await f.stores.samples.getSample('cells', a))?.label?.labelerId).toBe('olga');
  });

  it('answers 400 with the whole report when a row has a problem, naming the first one', async () => {
    const { f, post, retrains } = await setup();
    const res = await post({ mode: 'labels', items: [...items, { source: 'b.xml', file: 'b.jpg', boxes: [] }] });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({
      code: 'bad_request',
      field: 'items',
      message: '1 row has a problem; nothing was imported. First: b.xml (b.jpg): no image "b.jpg" in the project: upload it first',
      ok: false,
      applied: false,
      summary: { failed: 1 },
    });
    expect(res.json.rows).toHaveLength(2);
    expect(retrains).toEqual([]);
    expect((await f.stores.annotations.listForProject('cells')).items).toEqual([]);
  });

  it('names the field of a malformed request', async () => {
    const { post } = await setup();
    const bad = await post({ mode: 'labels', items: [{ ...items[0], boxes: [{ source: 'x', class: 'RBC', box: [1, 2, 'x', 4] }] }] });
    expect(bad.status).toBe(400);
    expect(bad.json.field).toBe('items.0.boxes.0.box.2');
    expect((await post({ mode: 'guess', items })).json.field).toBe('mode');
    expect((await post({ mode: 'labels', items: [] })).json.field).toBe('items');
  });

  it('is for admins only, members who label included', async () => {
    const { f, post } = await setup();
    const project = (await f.stores.projects.get('cells'))!;
    await f.stores.projects.update({ ...project, members: ['lars'] }, project.version);
    const res = await post({ mode: 'labels', items }, 'lars');
    expect(res.status).toBe(403);
    expect((await f.stores.annotations.listForProject('cells')).items).toEqual([]);
  });
});
