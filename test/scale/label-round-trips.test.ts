// How many DynamoDB round trips a label's answer waits for, one after the other: with DynamoDB (or the emulator)
// slow at its tail, every round trip in sequence adds its own tail to the labeler's wait. The local stack's stores
// (counts applied behind the answer, the API's read caches) on dynalite, every request held at a gate that lets the
// requests waiting at it go together, one wave at a time: the waves a call needed are its round trips in sequence.
// A label (and an undo) from the labeler just served is the claim of its annotation record, then the sample's head
// and the labeler's progress together: two, also when no count mark of the project is open (the first label after a
// pause), whose mark goes out with the claim instead of after it.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsStores } from '../../functions/adapters/aws/clients.js';
import { LOCAL_COUNT_BEHIND } from '../../functions/adapters/aws/project-counter.js';
import type { DynamoSampleStore } from '../../functions/adapters/aws/samples.js';
import { servingStores } from '../../functions/adapters/aws/services.js';
import { annotate } from '../../functions/domain/annotate.js';
import type { Stores } from '../../functions/domain/ports.js';
import { projectProgress } from '../../functions/domain/progress.js';
import { createProject, getProject } from '../../functions/domain/projects.js';
import { nextSamples } from '../../functions/domain/serving/next-samples.js';
import { undoLast } from '../../functions/domain/undo.js';
import { startDynalite } from '../../functions/local/emulators.js';
import { startAwsTarget, type AwsTarget } from '../contract/aws-target.js';
import { sampleFixture } from '../support/fixtures.js';

type Middleware = (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: unknown) => Promise<unknown>;
interface Stackable {
  middlewareStack: { add(mw: Middleware, opts: { step: 'initialize'; name: string }): void };
}

/** Holds every DynamoDB request while closed; `waves(call)` opens it one wave at a time and counts the waves. */
class Gate {
  private closed = false;
  private waiting: { go: () => void; op: string }[] = [];
  private inFlight = 0;
  private lastArrival = 0;

  install(clients: Stackable[]): void {
    for (const client of clients) {
      client.middlewareStack.add(
        (next, context) => async (args) => {
          if (this.closed) {
            this.lastArrival = performance.now();
            await new Promise<void>((go) => this.waiting.push({ go, op: (context.commandName ?? '?').replace(/Command$/, '') }));
          }
          this.inFlight++;
          try {
            return await next(args);
          } finally {
            this.inFlight--;
          }
        },
        { step: 'initialize', name: 'winnowTestGate' },
      );
    }
  }

  /**
   * Runs `call` with the gate closed. Each wave: once nothing let through is still in flight and no request has
   * arrived for a moment (the caller has sent all it sends before waiting), every waiting request goes together.
   */
  async waves<T>(call: () => Promise<T>): Promise<{ result: T; waves: string[][] }> {
    this.closed = true;
    let done = false;
    const running = call().finally(() => (done = true));
    const waves: string[][] = [];
    try {
      while (!done) {
        await new Promise((r) => setTimeout(r, 5));
        const quiet = this.inFlight === 0 && performance.now() - this.lastArrival > 30;
        if (done || !quiet || this.waiting.length === 0) continue;
        const wave = this.waiting.splice(0);
        waves.push(wave.map((w) => w.op).sort());
        for (const w of wave) w.go();
      }
      return { result: await running, waves };
    } finally {
      // What the call left to finish after its answer (the count's apply) goes on ungated.
      this.closed = false;
      for (const w of this.waiting.splice(0)) w.go();
    }
  }
}

const CLASSES = ['daisy', 'rose', 'tulip'];
let seq = 0;
const rid = () => `r${++seq}-${Math.random().toString(36).slice(2, 8)}`;

describe('round trips in sequence on a label answer (dynalite, the local stack`s stores)', () => {
  let target: AwsTarget;
  let stores: Stores;
  const gate = new Gate();

  beforeAll(async () => {
    target = await startAwsTarget(() => startDynalite());
    const aws: AwsStores = target.stores;
    // Before any request: the stores' document client caches each operation's middleware chain on first use.
    gate.install([aws.clients.dynamodb, (aws.clients.doc as unknown as { cached: Stackable }).cached] as unknown as Stackable[]);
    (aws.samples as DynamoSampleStore).countBehind(LOCAL_COUNT_BEHIND);
    stores = servingStores(aws);
  }, 60_000);
  afterAll(async () => {
    await (target?.stores.samples as DynamoSampleStore | undefined)?.settleCounts();
    await target?.close();
  });

  async function project(n: number): Promise<string> {
    const id = `trips-${Date.now().toString(36)}-${++seq}`;
    await createProject(stores, { id, classes: CLASSES, overlap: 1, auditRate: 0 }, 'owner');
    await stores.samples.putSamplesIfAbsent(Array.from({ length: n }, (_, k) => sampleFixture(id, k + 1)));
    await getProject(stores, id); // in the API's project cache, as after the route's access check
    return id;
  }

  const serve = async (projectId: string, labelerId: string) =>
    (await nextSamples(stores, { projectId, labelerId, count: 1, leaseMs: 60_000 })).samples[0]!;
  const label = (projectId: string, labelerId: string, s: { sampleId: string; version: number }, classIndex: number) =>
    annotate(stores, { projectId, sampleId: s.sampleId, version: s.version, labelerId, classIndex, requestId: rid() });
  /** Longer than the count's mark stays open after a label (LOCAL_COUNT_BEHIND.openMs), so the next label finds none. */
  const pause = () => new Promise((r) => setTimeout(r, LOCAL_COUNT_BEHIND.openMs + 150));

  it('a label after a pause: the claim, then the head and the progress together', async () => {
    const id = await project(4);
    await label(id, 'ann', await serve(id, 'ann'), 0); // ann's progress record now exists and is known to this process
    await pause();
    const s = await serve(id, 'ann');
    const { result, waves } = await gate.waves(() => label(id, 'ann', s, 1));
    expect(result.replayed).toBe(false);
    expect(result.sample.version).toBe(s.version + 1);
    expect(waves, JSON.stringify(waves)).toHaveLength(2);
    expect(waves[0]).toContain('PutItem'); // the claim
    expect(waves[1]).toEqual(['PutItem', 'UpdateItem']); // the head's advance and the labeler's progress
    // Counted all the same: progress says both labels.
    const progress = await projectProgress(stores, id, 'owner');
    expect(progress.labeled).toBe(2);
    expect(progress.byClass.map((c) => c.count)).toEqual([1, 1, 0]);
  });

  it('labels close together (a count mark open): still two', async () => {
    const id = await project(4);
    await label(id, 'bob', await serve(id, 'bob'), 0);
    const s = await serve(id, 'bob');
    const { waves } = await gate.waves(() => label(id, 'bob', s, 2));
    expect(waves, JSON.stringify(waves)).toHaveLength(2);
    expect((await projectProgress(stores, id, 'owner')).labeled).toBe(2);
  });

  it('an undo after a pause: its reads, the claim, then the head and the progress together', async () => {
    const id = await project(3);
    await label(id, 'cy', await serve(id, 'cy'), 0);
    await pause();
    const { result, waves } = await gate.waves(() => undoLast(stores, { projectId: id, labelerId: 'cy', requestId: rid() }));
    expect(result.sample.label).toBeUndefined();
    // The undo reads what it undoes first; from its claim on: the claim, then the head and the progress together.
    const claim = waves.findIndex((w) => w.includes('PutItem'));
    expect(claim, JSON.stringify(waves)).toBeGreaterThanOrEqual(0);
    expect(waves.slice(claim), JSON.stringify(waves)).toHaveLength(2);
    expect(waves.at(-1)).toEqual(['PutItem', 'UpdateItem']);
    expect((await projectProgress(stores, id, 'owner')).labeled).toBe(0);
  });
});
