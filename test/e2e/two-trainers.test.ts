// Two trainer Lambda containers at once on one project, against the emulators (dynalite + s3rver), each its own
// module instance (as two warm containers are): the lease lets one train while the other leaves the rerun to it,
// the rerun trains on the labels written meanwhile, and an older ranking never replaces a newer one.

import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AwsStores } from '../../functions/adapters/aws/clients.js';
import { DynamoTrainerLease } from '../../functions/adapters/aws/trainer-lease.js';
import { DEFAULT_TABLE_NAMES } from '../../functions/adapters/aws/schema.js';
import { annotate } from '../../functions/domain/annotate.js';
import { createProject } from '../../functions/domain/projects.js';
import { DEFAULT_EMBEDDER } from '../../functions/vision/default-embedder.js';
import { appendEmbeddings } from '../../functions/adapters/embeddings/shards.js';
import { aSample } from '../contract/fixtures.js';
import { lambdaEnvOnEmulators, startLambdaEmulators } from '../support/lambda-env.js';

const BUCKET = 'winnow-two-trainers';
const PROJECT = 'pair';
const N = 60;
type Handler = (event: SQSEvent, context?: { awsRequestId: string; getRemainingTimeInMillis(): number }) => Promise<unknown>;

/** A fresh module instance of the trainer entry point: a second container. */
async function container(): Promise<Handler> {
  vi.resetModules();
  return (await import('../../functions/trainer/lambda.js')).handler as Handler;
}

const message = (id: string, sampleIds: string[]): SQSEvent =>
  ({ Records: [{ messageId: id, body: JSON.stringify({ projectId: PROJECT, sampleIds }) }] }) as SQSEvent;
const context = (id: string) => ({ awsRequestId: id, getRemainingTimeInMillis: () => 600_000 });

describe('two trainers at once', () => {
  const closers: (() => Promise<void>)[] = [];
  let stores: AwsStores;
  const ids = Array.from({ length: N }, (_, i) => `s${String(i).padStart(3, '0')}`);
  /** Samples 0..29 lie near one direction (class 0), 30..59 near another (class 1). */
  const classOf = (i: number) => (i < N / 2 ? 0 : 1);
  let version = new Map<string, number>();
  const label = async (i: number) => {
    const sampleId = ids[i];
    const out = await annotate(stores, { projectId: PROJECT, sampleId, version: version.get(sampleId) ?? 0, labelerId: 'ann', classIndex: classOf(i), requestId: `r-${sampleId}-${version.get(sampleId) ?? 0}` });
    version.set(sampleId, out.sample.version);
    return sampleId;
  };

  beforeAll(async () => {
    const emulators = await startLambdaEmulators('two-trainers', BUCKET);
    ({ stores } = emulators);
    closers.push(emulators.close);
    await createProject(stores, { id: PROJECT, classes: ['left', 'right'] }, 'owner');
    await stores.samples.putSamplesIfAbsent(ids.map((id, i) => aSample(PROJECT, id, String(i).padStart(4, '0'), { suggestions: [] })));
    await appendEmbeddings(stores.blobs, PROJECT, DEFAULT_EMBEDDER, ids.map((sampleId, i) => {
      const vector = new Float32Array(16).map((_, d) => Math.sin(i * 7 + d) * 0.2);
      vector[classOf(i)] += 1;
      return { sampleId, vector };
    }));
    lambdaEnvOnEmulators(emulators, BUCKET);
  });
  afterAll(async () => {
    for (const close of closers) await close();
  });

  it('the newer ranking wins and is trained on the latest labels, whichever container starts first', async () => {
    const a = await container();
    const b = await container();
    // Both containers warm, each holding the project's labels in memory as of now (two labels).
    const first = [await label(0), await label(N - 1)];
    await a(message('m0', first), context('a0'));
    await b(message('m1', first), context('b0'));
    const before = (await stores.rankings.get(PROJECT))!;
    expect(before).toMatchObject({ generation: 2, labels: 2 });

    // Labels keep arriving while both containers are invoked at once with messages naming only some of them.
    const batch1 = [await label(1), await label(2), await label(N - 2)];
    const running = a(message('m2', batch1), context('a1'));
    const batch2 = [await label(3), await label(N - 3), await label(N - 4)];
    const second = b(message('m3', batch2), context('b1'));
    expect(await Promise.all([running, second])).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);

    const after = (await stores.rankings.get(PROJECT))!;
    // Every label written before the last trigger was trained on (8 labels), by the newest generation.
    expect(after.labels).toBe(8);
    expect(after.generation).toBeGreaterThan(before.generation);
    expect(after.probs).toBeDefined();
    // The lease is free again.
    const lease = new DynamoTrainerLease(stores.clients.doc, DEFAULT_TABLE_NAMES.samples);
    expect(await lease.acquireOrQueue(PROJECT, 'probe', 1000)).toBe('acquired');
    await lease.release(PROJECT, 'probe');

    // A container that kept stale labels in memory (from its earlier run) and is triggered for one sample still
    // trains on every label in the store.
    const last = await label(4);
    await a(message('m4', [last]), context('a2'));
    expect((await stores.rankings.get(PROJECT))!.labels).toBe(9);
  });

  it('an older ranking written late never replaces a newer one', async () => {
    const current = (await stores.rankings.get(PROJECT))!;
    await stores.rankings.put({ ...current, generation: current.generation - 1, labels: 0, sampleIds: ['stale'] });
    expect(await stores.rankings.get(PROJECT)).toMatchObject({ generation: current.generation, labels: current.labels });
    await stores.rankings.put({ ...current, generation: current.generation + 1 });
    expect((await stores.rankings.get(PROJECT))!.generation).toBe(current.generation + 1);
  });

  it('while one container holds the lease, a second one queues a rerun instead of training', async () => {
    const lease = new DynamoTrainerLease(stores.clients.doc, DEFAULT_TABLE_NAMES.samples);
    const outcomes = await Promise.all([lease.acquireOrQueue(PROJECT, 'x', 60_000), lease.acquireOrQueue(PROJECT, 'y', 60_000)]);
    expect(outcomes.sort()).toEqual(['acquired', 'queued']);
    const holder = outcomes[0] === 'acquired' ? 'x' : 'y';
    expect(await lease.releaseOrRenew(PROJECT, holder, 60_000)).toBe(true); // the queued work: run again
    expect(await lease.releaseOrRenew(PROJECT, holder, 60_000)).toBe(false); // nothing more: released
    expect(await lease.acquireOrQueue(PROJECT, 'z', 60_000)).toBe('acquired');
    await lease.release(PROJECT, 'z');
  });
});
