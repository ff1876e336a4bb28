// Serving and labeling remember what their own process saw (functions/domain/serving/head-memory.ts) to save store calls.
// The cloud runs many API processes on one table: here two sets of AWS adapters on one dynalite play two processes,
// each with its own memory, and nothing one of them remembers may ever hand out a sample that is leased or labeled.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAwsStores, destroyAwsClients, ensureTables, type AwsStores } from '../../functions/adapters/aws/clients.js';
import { DEFAULT_TABLE_NAMES } from '../../functions/adapters/aws/schema.js';
import { annotate } from '../../functions/domain/annotate.js';
import { WinnowError } from '../../functions/domain/errors.js';
import { createProject } from '../../functions/domain/projects.js';
import { projectProgress } from '../../functions/domain/progress.js';
import { nextSamples } from '../../functions/domain/serving/next-samples.js';
import { startDynalite, type RunningEmulator } from '../../functions/local/emulators.js';
import { ManualClock, rid, sampleFixture } from '../support/fixtures.js';

const LEASE = 60_000;
const clock = new ManualClock();
let dynamo: RunningEmulator;
let a: AwsStores;
let b: AwsStores;
let projects = 0;

beforeAll(async () => {
  dynamo = await startDynalite();
  const process = () =>
    createAwsStores({
      region: 'us-east-1',
      endpoints: { dynamodb: dynamo.endpoint, s3: 'http://127.0.0.1:9' },
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      tables: DEFAULT_TABLE_NAMES,
      bucket: 'unused',
      clock,
    });
  a = process();
  b = process();
  await ensureTables(a.clients.dynamodb, DEFAULT_TABLE_NAMES);
});

afterAll(async () => {
  for (const s of [a, b]) if (s) destroyAwsClients(s.clients);
  await dynamo?.close();
});

/** A fresh project with samples s1..s4, ranked s1 first, created through process a. */
async function project(overlap = 1): Promise<string> {
  const id = `p${++projects}`;
  // No audit draws: this suite is about what each process remembers, with a fixed served order.
  await createProject(a, { id, classes: ['daisy', 'rose'], overlap, auditRate: 0 }, 'owner');
  await a.samples.putSamplesIfAbsent([1, 2, 3, 4].map((n) => sampleFixture(id, n)));
  await a.rankings.put({
    projectId: id, generation: 1, createdAt: 'now', strategy: 'margin', coldStart: false, labels: 2, classes: 2,
    sampleIds: ['s1', 's2', 's3', 's4'], probs: Float32Array.from([0.5, 0.5, 0.6, 0.4, 0.7, 0.3, 0.8, 0.2]),
  });
  return id;
}

const next = async (stores: AwsStores, projectId: string, labelerId: string) =>
  (await nextSamples(stores, { projectId, labelerId, count: 1, leaseMs: LEASE })).samples.map((s) => s.sampleId);
const label = (stores: AwsStores, projectId: string, sampleId: string, labelerId: string, version = 0, requestId = rid()) =>
  annotate(stores, { projectId, sampleId, version, labelerId, classIndex: 0, requestId });

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof WinnowError) return err.code;
    throw err;
  }
}

describe('serving from two API processes on one table', () => {
  it('never serves a sample leased through the other process', async () => {
    const p = await project();
    expect(await next(a, p, 'ann')).toEqual(['s1']);
    expect(await next(b, p, 'bob')).toEqual(['s2']);
    expect(await next(a, p, 'cid')).toEqual(['s3']);
    expect(await next(b, p, 'dan')).toEqual(['s4']);
    expect(await nextSamples(a, { projectId: p, labelerId: 'eve', count: 1, leaseMs: LEASE })).toMatchObject({ samples: [], done: false });
    // ...and gives each labeler their own lease back through either process.
    expect(await next(b, p, 'ann')).toEqual(['s1']);
    expect(await next(a, p, 'bob')).toEqual(['s2']);
  });

  it('does not serve again a sample labeled through the other process', async () => {
    const p = await project();
    expect(await next(a, p, 'ann')).toEqual(['s1']);
    await label(b, p, 's1', 'ann');
    expect(await next(a, p, 'ann')).toEqual(['s2']);
    expect(await next(a, p, 'bob')).toEqual(['s3']);
  });

  it('with overlap 2, never serves labelers a sample they labeled through the other process, but serves it to others', async () => {
    const p = await project(2);
    expect(await next(a, p, 'ann')).toEqual(['s1']);
    await label(b, p, 's1', 'ann');
    expect(await next(a, p, 'ann')).toEqual(['s2']);
    expect(await next(a, p, 'bob')).toEqual(['s1']);
  });

  it('checks a label against the store once the lease this process saw has run out', async () => {
    const p = await project();
    expect(await next(a, p, 'ann')).toEqual(['s1']);
    clock.advance(LEASE + 1);
    expect(await next(b, p, 'bob')).toEqual(['s1']);
    await label(b, p, 's1', 'bob');
    expect(await code(label(a, p, 's1', 'ann'))).toBe('stale_version');
    expect((await a.annotations.listForSample(p, 's1')).map((x) => x.labelerId)).toEqual(['bob']);
  });

  it("refuses a label on someone else's lease, whichever process serves it", async () => {
    const p = await project();
    expect(await next(a, p, 'ann')).toEqual(['s1']);
    expect(await code(label(a, p, 's1', 'bob'))).toBe('lease_conflict');
    expect(await code(label(b, p, 's1', 'bob'))).toBe('lease_conflict');
    expect((await label(a, p, 's1', 'ann')).sample.labeledBy).toEqual(['ann']);
  });

  it('acknowledges a retried label once, through the process that served it or the other', async () => {
    const p = await project();
    expect(await next(a, p, 'ann')).toEqual(['s1']);
    const requestId = rid();
    expect((await label(a, p, 's1', 'ann', 0, requestId)).replayed).toBe(false);
    expect((await label(a, p, 's1', 'ann', 0, requestId)).replayed).toBe(true);
    expect((await label(b, p, 's1', 'ann', 0, requestId)).replayed).toBe(true);
    expect(await a.annotations.listForSample(p, 's1')).toHaveLength(1);
    expect((await b.labelers.get(p, 'ann'))?.total).toBe(1);
  });

  it("keeps a labeler's counts exact when their labels go through both processes", async () => {
    const p = await project();
    for (const [stores, sampleId] of [[a, 's1'], [b, 's2'], [a, 's3'], [b, 's4']] as const) {
      expect(await next(stores, p, 'ann')).toEqual([sampleId]);
      await label(stores, p, sampleId, 'ann');
    }
    for (const stores of [a, b]) {
      const ann = await stores.labelers.get(p, 'ann');
      expect(ann?.total).toBe(4);
      expect(ann?.recent.map((e) => e.sampleId)).toEqual(['s1', 's2', 's3', 's4']);
    }
  });

  it('counts a label in progress at once in the process that wrote it, and in the other after its recount', async () => {
    const p = await project();
    const labeled = async (stores: AwsStores) => {
      const progress = await projectProgress(stores, p, 'ann');
      return { labeled: progress.labeled, daisy: progress.byClass[0].count, me: progress.me.total };
    };
    expect(await labeled(a)).toEqual({ labeled: 0, daisy: 0, me: 0 });
    expect(await labeled(b)).toEqual({ labeled: 0, daisy: 0, me: 0 });
    expect(await next(a, p, 'ann')).toEqual(['s1']);
    await label(a, p, 's1', 'ann');
    expect(await labeled(a)).toEqual({ labeled: 1, daisy: 1, me: 1 });
    // The other process reads the labeler fresh, and recounts the project in the background once its counts are old.
    expect((await labeled(b)).me).toBe(1);
    clock.advance(60_000);
    await projectProgress(b, p, 'ann');
    await vi.waitFor(async () => expect(await labeled(b)).toEqual({ labeled: 1, daisy: 1, me: 1 }));
  });
});
