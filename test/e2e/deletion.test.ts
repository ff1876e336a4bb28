// Deleting with everything derived, end to end through the API (issue 16's "done when"): a project with real photos
// ingested by the real pipeline (sharp + ONNX: thumbnails, display copies, detector boxes as samples, embeddings),
// labeled by two labelers, exported; then one image is deleted, then one labeler's work, then the project. After
// each step the stores are read directly; after the last, every bucket prefix is listed and every table scanned:
// nothing of the project remains, while a second project is untouched. Run on the in-memory fakes and on the local
// stack (dynalite + s3rver), where an `aws s3 rm` of an original (ObjectRemoved) deletes its image too. (That
// labelers get 403 from every delete route is checked by the authorization matrix in test/attack.)

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsStores, destroyAwsClients, type AwsStores } from '../../functions/adapters/aws/clients.js';
import { afterAnalysis } from '../../functions/adapters/aws/services.js';
import { runDeleteCommand } from '../../functions/cli/delete.js';
import { localTarget } from '../../functions/cli/stack-client.js';
import { DEFAULT_TABLE_NAMES } from '../../functions/adapters/aws/schema.js';
import { createMemoryStores, type MemoryStores } from '../../functions/adapters/memory/index.js';
import { createApp } from '../../functions/api/app.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import { localAuthenticate } from '../../functions/api/auth-local.js';
import { startProjectDeletion } from '../../functions/domain/deletion.js';
import { imageIdFor, ingestObject } from '../../functions/domain/ingest.js';
import type { Stores } from '../../functions/domain/ports.js';
import { decodeShard } from '../../functions/adapters/embeddings/shards.js';
import type { LocalStack } from '../../functions/local/stack.js';
import { allPages } from '../support/pages.js';
import { FLOWERS } from '../support/paths.js';
import { apiClient, sharedAnalyzer, startTestStack, tempDir, waitFor } from '../support/stack.js';

const DOOMED = 'doomed-garden';
const KEPT = 'kept-garden';
const PHOTOS = ['daisy/100080576_f52e8ee070_n.jpg', 'roses/10090824183_d02c613f10_m.jpg', 'dandelion', 'tulips'];

type Api = (user: string) => (method: string, route: string, body?: unknown) => Promise<{ status: number; json: any }>;

interface Harness {
  api: Api;
  stores: Stores;
  /** Stores an original and has it ingested (the local stack: through the emulator's event). */
  upload(projectId: string, name: string, bytes: Uint8Array): Promise<void>;
  /** Every object key in the bucket and every table item (as JSON), for "nothing remains". */
  everything(): Promise<{ keys: string[]; items: string[] }>;
  exports: boolean;
}

async function photo(entry: string): Promise<Uint8Array> {
  if (entry.includes('.')) return new Uint8Array(await readFile(path.join(FLOWERS, entry)));
  const { readdir } = await import('node:fs/promises');
  const first = (await readdir(path.join(FLOWERS, entry))).sort()[0];
  return new Uint8Array(await readFile(path.join(FLOWERS, entry, first)));
}

async function waitDone(h: Harness, statusUrl: string) {
  return waitFor(async () => {
    const { status, json } = await h.api('olga')('GET', statusUrl);
    if (status !== 200) throw new Error(`status ${status}: ${JSON.stringify(json)}`);
    if (json.status === 'failed') throw new Error(json.error);
    return json.status === 'done' && json;
  }, `deletion ${statusUrl}`, 60_000);
}

async function labelAll(h: Harness, projectId: string, labeler: string, classIndex: number) {
  const api = h.api(labeler);
  for (let i = 0; i < 100; i++) {
    const next = await api('GET', `/api/projects/${projectId}/next?count=1`);
    expect(next.status).toBe(200);
    if (next.json.samples.length === 0) return;
    const { sample } = next.json.samples[0];
    const confidences = [0, 0, 0];
    confidences[classIndex] = 1;
    const res = await api('POST', `/api/projects/${projectId}/samples/${sample.sampleId}/annotations`, {
      version: sample.version, requestId: `${labeler}-${sample.sampleId}`, confidences,
    });
    expect(res.status).toBe(201);
  }
}

async function embeddedSampleIds(stores: Stores, projectId: string): Promise<string[]> {
  const ids: string[] = [];
  for (const o of await allPages((cursor) => stores.blobs.list(`embeddings/${projectId}/`, { cursor }))) {
    const got = await stores.blobs.get(o.key);
    ids.push(...decodeShard(got!.body, o.key).sampleIds);
  }
  return ids;
}

function deletionScenario(name: string, start: () => Promise<Harness & { close(): Promise<void> }>) {
  describe(`deleting with everything derived: ${name}`, () => {
    let h: Harness & { close(): Promise<void> };
    const olga = () => h.api('olga');
    let images: { imageId: string; key: string }[];

    beforeAll(async () => {
      h = await start();
      for (const id of [DOOMED, KEPT]) {
        const res = await olga()('POST', '/api/projects', {
          id, name: id === DOOMED ? 'Doomed garden' : 'Kept garden', classes: ['daisy', 'roses', 'other'], overlap: 2,
          detection: { enabled: true, scoreThreshold: 0.05 },
        });
        expect(res.status).toBe(201);
      }
      for (const [i, entry] of PHOTOS.entries()) await h.upload(DOOMED, `p${i}.jpg`, await photo(entry));
      await h.upload(KEPT, 'k.jpg', await photo(PHOTOS[0]));
      await waitFor(async () => {
        const { json } = await olga()('GET', `/api/projects/${DOOMED}/images`);
        return json.images?.length === PHOTOS.length && json.images.every((i: { status: string }) => i.status === 'ready');
      }, 'ingest', 120_000);
      images = (await allPages((cursor) => h.stores.samples.listImages(DOOMED, { cursor }))).map((i) => ({ imageId: i.imageId, key: i.key }));
      await labelAll(h, DOOMED, 'ann', 0);
      await labelAll(h, DOOMED, 'bob', 1);
      await labelAll(h, KEPT, 'ann', 0);
      if (h.exports) {
        const started = await olga()('POST', `/api/projects/${DOOMED}/exports`, { format: 'jsonl', images: true });
        expect(started.status).toBe(202);
        await waitFor(async () => (await olga()('GET', started.json.statusUrl)).json.state === 'done', 'the export', 60_000);
      }
    }, 240_000);

    afterAll(async () => {
      await h?.close();
    });

    it('starts from a project with box samples, two labelers, embeddings and an export', async () => {
      const samples = await allPages((cursor) => h.stores.samples.listSamples(DOOMED, { cursor }));
      expect(samples.some((s) => s.kind === 'box')).toBe(true);
      expect(samples.every((s) => s.labeledBy.length === 2 && s.label?.labelerId === 'bob')).toBe(true);
      expect(new Set(await embeddedSampleIds(h.stores, DOOMED))).toEqual(new Set(samples.map((s) => s.sampleId)));
      const keys = (await h.everything()).keys;
      expect(keys.some((k) => k.startsWith(`derived/${DOOMED}/`))).toBe(true);
      if (h.exports) expect(keys.some((k) => k.startsWith(`exports/${DOOMED}/`))).toBe(true);
    });

    it('deletes one image with its original, copies, samples, annotations and embedding rows', async () => {
      const victim = images[0];
      const samplesBefore = await allPages((cursor) => h.stores.samples.listSamples(DOOMED, { cursor }));
      const itsSamples = samplesBefore.filter((s) => s.imageId === victim.imageId).map((s) => s.sampleId);
      expect(itsSamples.length).toBeGreaterThan(0);

      const res = await olga()('DELETE', `/api/projects/${DOOMED}/images/${victim.imageId}`);
      expect(res.status).toBe(202);
      const done = await waitDone(h, res.json.statusUrl);
      expect(done.deleted).toMatchObject({ images: 1, samples: itsSamples.length, annotations: 2 * itsSamples.length });

      const gallery = (await olga()('GET', `/api/projects/${DOOMED}/images`)).json.images.map((i: { imageId: string }) => i.imageId);
      expect(gallery).not.toContain(victim.imageId);
      expect(gallery).toHaveLength(PHOTOS.length - 1);
      for (const id of itsSamples) {
        expect(await h.stores.samples.getSample(DOOMED, id)).toBeUndefined();
        expect(await h.stores.annotations.listForSample(DOOMED, id)).toEqual([]);
      }
      const keys = (await h.everything()).keys;
      expect(keys.filter((k) => k === victim.key || k.startsWith(`derived/${DOOMED}/${victim.imageId}/`))).toEqual([]);
      const embedded = await embeddedSampleIds(h.stores, DOOMED);
      expect(embedded.filter((id) => itsSamples.includes(id))).toEqual([]);
      expect(embedded.length).toBe(samplesBefore.length - itsSamples.length);
      const progress = (await olga()('GET', `/api/projects/${DOOMED}/progress`)).json;
      expect(progress.total).toBe(samplesBefore.length - itsSamples.length);
      // Again: the image is gone, so there is nothing to delete.
      expect((await olga()('DELETE', `/api/projects/${DOOMED}/images/${victim.imageId}`)).status).toBe(404);
    });

    it("removes one labeler's work: each sample falls back to the other's label and waits for a second one", async () => {
      // Unknown fields and empty names are refused with the field named.
      const bad = await olga()('POST', `/api/projects/${DOOMED}/deletions`, { labelerId: ' ' });
      expect(bad.status).toBe(400);
      expect(bad.json.message).toMatch(/^labelerId:/);
      const res = await olga()('DELETE', `/api/projects/${DOOMED}/labelers/bob/annotations`);
      expect(res.status).toBe(202);
      await waitDone(h, res.json.statusUrl);
      const samples = await allPages((cursor) => h.stores.samples.listSamples(DOOMED, { cursor }));
      expect(samples.length).toBeGreaterThan(0);
      for (const s of samples) {
        expect(s.labeledBy).toEqual(['ann']);
        expect(s.label).toMatchObject({ labelerId: 'ann', confidences: [1, 0, 0] });
        expect(s.queueKey).toBe(s.order); // overlap 2: back in the queue
      }
      const annotations = await allPages((cursor) => h.stores.annotations.listForProject(DOOMED, { cursor }));
      expect(annotations.filter((a) => a.labelerId === 'bob')).toEqual([]);
      expect(annotations.filter((a) => a.labelerId === 'ann')).toHaveLength(samples.length);
      expect((await h.stores.labelers.list(DOOMED)).map((l) => l.labelerId)).toEqual(['ann']);
    });

    it('deletes the project only with its name typed, and then nothing of it remains', async () => {
      const wrong = await olga()('DELETE', `/api/projects/${DOOMED}`, { confirm: 'doomed' });
      expect(wrong.status).toBe(400);
      expect(wrong.json.message).toContain('Doomed garden');
      expect((await olga()('DELETE', `/api/projects/${DOOMED}`)).status).toBe(400);

      const sample = (await h.api('cy')('GET', `/api/projects/${DOOMED}/next?count=1`)).json.samples[0].sample;
      const res = await olga()('DELETE', `/api/projects/${DOOMED}`, { confirm: 'Doomed garden' });
      expect(res.status).toBe(202);
      expect(res.json.statusUrl).toBe(`/api/deletions/${DOOMED}/${res.json.jobId}`);
      // A labeler saving in the deleted project gets a clear 404, in the error shape.
      const save = await h.api('cy')('POST', `/api/projects/${DOOMED}/samples/${sample.sampleId}/annotations`, {
        version: sample.version, requestId: 'late-save', confidences: [0, 0, 1],
      });
      expect(save.status).toBe(404);
      expect(save.json).toMatchObject({ code: 'not_found', message: `project "${DOOMED}" not found` });
      await waitDone(h, res.json.statusUrl);

      const { keys, items } = await h.everything();
      // Only the audit log remains (issue 16): who did what when, by ids, without file names or labels.
      const audit = keys.filter((k) => k.startsWith(`audit/${DOOMED}/`));
      expect(audit.length).toBeGreaterThan(0);
      for (const k of audit) expect(new TextDecoder().decode((await h.stores.blobs.get(k))!.body)).not.toMatch(/\.jpe?g|uploads\//);
      expect(keys.filter((k) => k.includes(DOOMED) && !k.startsWith('audit/'))).toEqual([]);
      expect(items.filter((i) => i.includes(DOOMED))).toEqual([]);
      // The other project is untouched.
      expect(keys.some((k) => k.startsWith(`uploads/${KEPT}/`))).toBe(true);
      expect(items.filter((i) => i.includes(KEPT)).length).toBeGreaterThan(3);
      expect((await olga()('GET', `/api/projects/${DOOMED}`)).status).toBe(404);
    });
  });
}

deletionScenario('in-memory fakes', async () => {
  const stores: MemoryStores = createMemoryStores();
  const analyzer = await sharedAnalyzer();
  const app = createApp({ stores, featureVectors: shardFeatureVectors(stores.blobs, stores.clock), authenticate: localAuthenticate });
  const onAnalyzed = afterAnalysis(stores, analyzer.status().embedder, () => undefined);
  const api: Api = (user) => async (method, route, body) => {
    const res = await app.request(route, {
      method,
      headers: { 'x-winnow-user': user, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
  return {
    api,
    stores,
    exports: false,
    async upload(projectId, name, bytes) {
      const key = `uploads/${projectId}/${name}`;
      await stores.blobs.put(key, bytes, 'image/jpeg');
      await ingestObject({ stores, analyzer, onAnalyzed }, { key });
    },
    async everything() {
      const keys = (await allPages((cursor) => stores.blobs.list('', { cursor }))).map((o) => o.key);
      const items = [
        ...stores.projects.projectIds().map((id) => `project ${id}`),
        ...stores.samples.projectIds().map((id) => `samples of ${id}`),
        ...stores.annotations.all().map((a) => JSON.stringify(a)),
        ...stores.labelers.projectIds().map((id) => `labelers of ${id}`),
        ...stores.rankings.projectIds().map((id) => `ranking of ${id}`),
      ];
      // The fakes keep records per project; list the other project's records too so the "untouched" check counts.
      for (const id of stores.samples.projectIds()) {
        items.push(...(await allPages((cursor) => stores.samples.listSamples(id, { cursor }))).map((s) => JSON.stringify(s)));
      }
      return { keys, items };
    },
    close: async () => undefined,
  };
});

deletionScenario('local stack (dynalite + s3rver)', async () => {
  const stack: LocalStack = await startTestStack(await tempDir('deletion-e2e'));
  const raw: AwsStores = createAwsStores({
    region: 'us-east-1',
    endpoints: { dynamodb: stack.dynamoEndpoint, s3: stack.s3Endpoint },
    credentials: stack.credentials,
    tables: DEFAULT_TABLE_NAMES,
    bucket: stack.bucket,
  });
  return {
    api: (user) => apiClient(stack.url, user),
    stores: stack.stores,
    exports: true,
    async upload(projectId, name, bytes) {
      await raw.blobs.put(`uploads/${projectId}/${name}`, bytes, 'image/jpeg');
    },
    async everything() {
      const keys = (await allPages((cursor) => raw.blobs.list('', { cursor }))).map((o) => o.key);
      const items: string[] = [];
      for (const table of Object.values(DEFAULT_TABLE_NAMES)) {
        let start: Record<string, any> | undefined;
        do {
          const out = await raw.clients.dynamodb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }));
          items.push(...(out.Items ?? []).map((i) => `${table} ${JSON.stringify(i)}`));
          start = out.LastEvaluatedKey;
        } while (start);
      }
      return { keys, items };
    },
    close: async () => {
      destroyAwsClients(raw.clients);
      await stack.close();
    },
  };
});

describe('an original removed from the bucket directly (aws s3 rm), and the CLI, on the local stack', () => {
  let stack: LocalStack;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await tempDir('deletion-s3rm');
    stack = await startTestStack(dataDir);
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('deletes its image with the copies, samples and embedding rows', async () => {
    const api = apiClient(stack.url, 'olga');
    expect((await api('POST', '/api/projects', { id: 'rm-test', classes: ['daisy', 'other'] })).status).toBe(201);
    const raw = createAwsStores({
      region: 'us-east-1', endpoints: { dynamodb: stack.dynamoEndpoint, s3: stack.s3Endpoint }, credentials: stack.credentials,
      tables: DEFAULT_TABLE_NAMES, bucket: stack.bucket,
    });
    try {
      await raw.blobs.put('uploads/rm-test/a.jpg', await photo(PHOTOS[0]), 'image/jpeg');
      await raw.blobs.put('uploads/rm-test/b.jpg', await photo(PHOTOS[1]), 'image/jpeg');
      const ready = await waitFor(async () => {
        const { json } = await api('GET', '/api/projects/rm-test/images');
        return json.images?.length === 2 && json.images.every((i: { status: string }) => i.status === 'ready') && json.images;
      }, 'ingest', 120_000);
      const a = ready.find((i: { key: string }) => i.key.endsWith('a.jpg'));
      await raw.blobs.delete('uploads/rm-test/a.jpg'); // what `aws s3 rm` sends
      await waitFor(async () => {
        const { json } = await api('GET', '/api/projects/rm-test/images');
        return json.images.length === 1;
      }, 'the removed original to take its image', 30_000);
      expect(await stack.stores.samples.getSample('rm-test', a.imageId)).toBeUndefined();
      await waitFor(async () => !(await raw.blobs.head(`derived/rm-test/${a.imageId}/thumb.webp`)), 'the thumbnail to go', 10_000);
      // The job removes the embedding rows after the derived files (its last step): wait for it, not only the files.
      await waitFor(async () => !(await embeddedSampleIds(raw, 'rm-test')).includes(a.imageId), 'the embedding rows to go', 10_000);
      expect((await raw.blobs.list('uploads/rm-test/')).items.map((o) => o.key)).toEqual(['uploads/rm-test/b.jpg']);

      // `npm run winnow -- delete --project rm-test --failed`: an upload that is no image fails ingest, then goes.
      await raw.blobs.put('uploads/rm-test/broken.jpg', new TextEncoder().encode('not a photo'), 'image/jpeg');
      await waitFor(async () => (await api('GET', '/api/projects/rm-test/images')).json.images.some((i: { status: string }) => i.status === 'failed'), 'the failed upload');
      const lines: string[] = [];
      const target = await localTarget(dataDir);
      await expect(runDeleteCommand(target, { project: 'rm-test', all: true, log: () => undefined })).rejects.toThrow('--confirm');
      const job = await runDeleteCommand(target, { project: 'rm-test', failed: true, log: (l) => lines.push(l), pollMs: 100 });
      expect(job).toMatchObject({ status: 'done', deleted: { images: 1 } });
      expect(lines.at(-1)).toBe('done done: 1/1');
      expect((await api('GET', '/api/projects/rm-test/images')).json.images.map((i: { key: string }) => i.key)).toEqual(['uploads/rm-test/b.jpg']);
      // A labeler whose name a path cannot carry (an email address): the CLI sends it in the body.
      const ann = apiClient(stack.url, 'ann@example.com');
      const next = (await ann('GET', '/api/projects/rm-test/next?count=1')).json.samples[0].sample;
      const saved = await ann('POST', `/api/projects/rm-test/samples/${next.sampleId}/annotations`, { version: next.version, requestId: 'ann-email-1', confidences: [1, 0] });
      expect(saved.json).toMatchObject({ sample: { labeledBy: ['ann@example.com'] } });
      expect(await runDeleteCommand(target, { project: 'rm-test', labeler: 'ann@example.com', log: () => undefined, pollMs: 100 })).toMatchObject({ status: 'done', deleted: { annotations: 1, samplesReverted: 1 } });
      expect((await api('GET', `/api/projects/rm-test/samples/${next.sampleId}`)).json.sample.label).toBeUndefined();

      await expect(runDeleteCommand(target, { project: 'rm-test', all: true, confirm: 'nope', log: () => undefined })).rejects.toThrow(
        `deletion refused (400): confirm: type the project's name, "rm-test", to delete it with everything in it`,
      );
    } finally {
      destroyAwsClients(raw.clients);
    }
  });
});

describe('a deletion interrupted by a stop of the local stack', () => {
  it('is finished by the next start', async () => {
    const dataDir = await tempDir('deletion-restart');
    let stack = await startTestStack(dataDir);
    try {
      const api = apiClient(stack.url, 'olga');
      expect((await api('POST', '/api/projects', { id: 'halfway', name: 'Halfway', classes: ['daisy', 'other'] })).status).toBe(201);
      await stack.stores.blobs.put('uploads/halfway/a.jpg', await photo(PHOTOS[0]), 'image/jpeg');
      await waitFor(async () => (await api('GET', '/api/projects/halfway/images')).json.images?.[0]?.status === 'ready', 'ingest', 120_000);
      // The job is recorded and the project record removed, then the server stops before the sweep runs.
      const job = await startProjectDeletion(stack.stores, 'halfway', 'Halfway', 'olga');
      await stack.close();
      stack = await startTestStack(dataDir);
      const left = () => allPages((cursor) => stack.stores.blobs.list('', { cursor })).then((all) => all.filter((o) => o.key.includes('halfway') && !o.key.startsWith('audit/')));
      await waitFor(async () => (await left()).length === 0, 'the interrupted deletion to finish', 30_000);
      expect(await stack.stores.samples.getImage('halfway', images0(job.projectId))).toBeUndefined();
      expect((await stack.stores.samples.listSamples('halfway')).items).toEqual([]);
    } finally {
      await stack.close();
    }
  }, 180_000);
});

const images0 = (projectId: string) => imageIdFor(`uploads/${projectId}/a.jpg`);
