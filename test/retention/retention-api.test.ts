// Retention settings through the API on the in-memory stores: an owner sets them when creating or editing a project
// (kept, answered back, and in the audit log with the days); a labeler member cannot (403, the project unchanged);
// bad values get a 400 whose JSON names the field.

import { describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { createApp } from '../../functions/api/app.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import type { Authenticate } from '../../functions/api/types.js';
import { readAudit } from '../../functions/domain/audit-log.js';

/** x-user names the caller; x-group their group (admin unless said otherwise). */
const authenticate: Authenticate = async (req) => ({
  userId: req.headers.get('x-user') ?? 'olga',
  groups: [req.headers.get('x-group') ?? 'admin'],
});
const LABELER = { 'x-user': 'lars', 'x-group': 'labeler' };

describe('retention settings API', () => {
  const stores = createMemoryStores();
  const app = createApp({ stores, featureVectors: shardFeatureVectors(stores.blobs, stores.clock), authenticate });
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await app.request(path, {
      method,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as any };
  };

  it('owners set retention on create and edit; labelers get 403; bad values get 400 naming the field', async () => {
    const created = await call('POST', '/api/projects', { id: 'garden', classes: ['daisy'], members: ['lars'], retention: { exportsDays: 30 } });
    expect(created.status).toBe(201);
    expect(created.json.project.retention).toEqual({ exportsDays: 30 });

    // A labeler member reads the project but cannot change how long it is kept.
    expect((await call('GET', '/api/projects/garden', undefined, LABELER)).status).toBe(200);
    const refused = await call('PATCH', '/api/projects/garden', { version: 1, retention: { exportsDays: 1, originalsDaysAfterExport: 1 } }, LABELER);
    expect(refused.status).toBe(403);
    expect((await stores.projects.get('garden'))!.retention).toEqual({ exportsDays: 30 });

    const bad: [unknown, string][] = [
      [{ exportsDays: 0 }, 'retention.exportsDays'],
      [{ exportsDays: 1.5 }, 'retention.exportsDays'],
      [{ originalsDaysAfterExport: -3 }, 'retention.originalsDaysAfterExport'],
      [{ originalsDaysAfterExport: 'forever' }, 'retention.originalsDaysAfterExport'],
      [{ exportsDays: 7, originalsDaysAfterExport: 30 }, 'retention.exportsDays'],
      [{ keepDays: 3 }, 'retention'],
      ['30 days', 'retention'],
    ];
    for (const [retention, field] of bad) {
      const res = await call('PATCH', '/api/projects/garden', { version: 1, retention });
      expect(res.status, JSON.stringify(retention)).toBe(400);
      expect(res.json).toMatchObject({ code: 'bad_request', field });
      expect(res.json.message).toContain(field);
    }
    const badCreate = await call('POST', '/api/projects', { id: 'other', classes: ['a'], retention: { exportsDays: 100_000 } });
    expect(badCreate.status).toBe(400);
    expect(badCreate.json.field).toBe('retention.exportsDays');

    const edited = await call('PATCH', '/api/projects/garden', { version: 1, retention: { exportsDays: 90, originalsDaysAfterExport: 60 } });
    expect(edited.status).toBe(200);
    expect(edited.json.project.retention).toEqual({ exportsDays: 90, originalsDaysAfterExport: 60 });
    // Back to keeping everything forever.
    const cleared = await call('PATCH', '/api/projects/garden', { version: 2, retention: {} });
    expect(cleared.json.project.retention).toEqual({});

    const log = (await readAudit(stores.blobs, 'garden')).items;
    expect(log.map((e) => e.action)).toEqual(['project.edit', 'project.edit', 'project.create']);
    expect(log[1].target).toEqual({ version: 2, exportsDays: 90, originalsDaysAfterExport: 60 });
    expect(log[2].target).toMatchObject({ exportsDays: 30 });
  });
});
