// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../web/src/api/api.js';
import {
  acknowledge,
  backoffDelay,
  createSaveRunner,
  emptyQueue,
  enqueue,
  failPermanently,
  nextToSend,
  sampleStatus,
  type SaveOp,
  type SaveTransport,
} from '../../web/src/saving/saveQueue.js';
import type { LabelBody, Sample } from '../../web/src/api/types.js';

const label = (requestId: string, sampleId: string, version: number | undefined, classIndex = 0): SaveOp => ({
  kind: 'label',
  requestId,
  projectId: 'p',
  sampleId,
  version,
  label: { classIndex },
});

/** A tiny stand-in for the server's annotate/undo: versions, idempotent replays by requestId, an on/off network. */
function fakeServer() {
  const versions = new Map<string, number>();
  const seen = new Map<string, { sample: Sample }>();
  const calls: { kind: string; sampleId: string; requestId: string; version?: number }[] = [];
  let online = true;
  let failNext = 0;
  const sample = (sampleId: string) => ({ sampleId, version: versions.get(sampleId) ?? 1 }) as Sample;
  const transport: SaveTransport = {
    async annotate(_p: string, sampleId: string, body: LabelBody) {
      calls.push({ kind: 'label', sampleId, requestId: body.requestId, version: body.version });
      if (!online || failNext-- > 0) throw new ApiError(0, 'network', 'offline');
      const replay = seen.get(body.requestId);
      if (replay) return replay;
      if (body.version !== (versions.get(sampleId) ?? 1)) throw new ApiError(409, 'stale_version', 'version moved');
      versions.set(sampleId, body.version + 1);
      const result = { sample: sample(sampleId) };
      seen.set(body.requestId, result);
      return result;
    },
    async undo(_p: string, body: { requestId: string; sampleId?: string }) {
      calls.push({ kind: 'undo', sampleId: body.sampleId!, requestId: body.requestId });
      if (!online) throw new ApiError(0, 'network', 'offline');
      const replay = seen.get(body.requestId);
      if (replay) return replay;
      versions.set(body.sampleId!, (versions.get(body.sampleId!) ?? 1) + 1);
      const result = { sample: sample(body.sampleId!) };
      seen.set(body.requestId, result);
      return result;
    },
  };
  return {
    transport,
    calls,
    versions,
    setOnline: (v: boolean) => (online = v),
    failTimes: (n: number) => (failNext = n),
  };
}

/** Manual time: timers fire only when the test moves the clock. */
function manualClock() {
  let t = 1_000;
  const timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => t,
    setTimer: (fn: () => void, ms: number) => {
      const timer = { at: t + ms, fn };
      timers.push(timer);
      return timer;
    },
    clearTimer: (h: unknown) => {
      const i = timers.indexOf(h as (typeof timers)[number]);
      if (i >= 0) timers.splice(i, 1);
    },
    pendingDelays: () => timers.map((x) => x.at - t),
    async advance(ms: number) {
      t += ms;
      for (const timer of timers.filter((x) => x.at <= t)) {
        timers.splice(timers.indexOf(timer), 1);
        timer.fn();
      }
      await flush();
    },
  };
}

const flush = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

describe('save queue (pure transitions)', () => {
  it('chains a second write to the same sample on the first write’s answer', () => {
    let q = enqueue(emptyQueue(), label('a', 's1', 1));
    q = enqueue(q, label('b', 's1', 1, 2));
    q = enqueue(q, label('c', 's2', 1));
    expect(q.items.map((i) => (i.op as { version?: number }).version)).toEqual([1, undefined, 1]);
    q = acknowledge(q, 'a', { sampleId: 's1', version: 2 });
    expect(q.items.map((i) => [i.op.requestId, (i.op as { version?: number }).version])).toEqual([
      ['b', 2],
      ['c', 1],
    ]);
  });

  it('sends only the head, so writes leave in the order they were made', () => {
    let q = enqueue(emptyQueue(), label('a', 's1', 1));
    q = enqueue(q, label('b', 's2', 1));
    expect(nextToSend(q, 0)?.op.requestId).toBe('a');
  });

  it('drops the later writes to a sample whose write was refused, and keeps the others', () => {
    let q = enqueue(emptyQueue(), label('a', 's1', 1));
    q = enqueue(q, label('b', 's2', 1));
    q = enqueue(q, { kind: 'undo', requestId: 'c', projectId: 'p', sampleId: 's1' });
    q = failPermanently(q, 'a', 'stale_version', 'version moved');
    expect(q.items.map((i) => i.op.requestId)).toEqual(['b']);
    expect(q.failed.map((f) => [f.op.requestId, f.code])).toEqual([
      ['a', 'stale_version'],
      ['c', 'dependency_failed'],
    ]);
    expect(sampleStatus(q, 's1')).toBe('failed');
    expect(sampleStatus(q, 's2')).toBe('unsaved');
  });

  it('backs off exponentially up to 30 s', () => {
    expect([1, 2, 3, 4, 10].map((n) => backoffDelay(n))).toEqual([500, 1000, 2000, 4000, 30_000]);
    expect(backoffDelay(1, 0)).toBeLessThan(backoffDelay(1, 1));
  });
});

describe('save runner', () => {
  it('retries through a network outage with the same idempotency key and only then reports saved', async () => {
    const server = fakeServer();
    const clock = manualClock();
    const saved: string[] = [];
    const runner = createSaveRunner({
      transport: server.transport,
      ...clock,
      random: () => 0.5,
      onSaved: (op) => saved.push(op.requestId),
    });
    server.setOnline(false);
    runner.enqueue(label('key-1', 's1', 1));
    await flush();
    expect(runner.state().items).toHaveLength(1);
    expect(sampleStatus(runner.state(), 's1')).toBe('unsaved');
    expect(saved).toEqual([]);
    expect(clock.pendingDelays()).toEqual([500]);

    await clock.advance(500); // second attempt, still offline
    expect(clock.pendingDelays()).toEqual([1000]);
    expect(saved).toEqual([]);

    server.setOnline(true);
    await clock.advance(1000);
    expect(saved).toEqual(['key-1']);
    expect(runner.state().items).toEqual([]);
    expect(sampleStatus(runner.state(), 's1')).toBeUndefined();
    expect(server.calls.map((c) => c.requestId)).toEqual(['key-1', 'key-1', 'key-1']);
    expect(server.versions.get('s1')).toBe(2);
  });

  it('is acknowledged, not duplicated, when the answer to a write that landed was lost', async () => {
    const server = fakeServer();
    const clock = manualClock();
    const runner = createSaveRunner({ transport: server.transport, ...clock });
    // The write lands on the server but the response never arrives.
    const real = server.transport.annotate;
    let dropAnswer = true;
    server.transport.annotate = async (...args) => {
      const result = await real(...args);
      if (dropAnswer) {
        dropAnswer = false;
        throw new ApiError(0, 'network', 'connection reset');
      }
      return result;
    };
    runner.enqueue(label('key-1', 's1', 1));
    await flush();
    expect(runner.state().items).toHaveLength(1);
    await clock.advance(10_000);
    expect(runner.state().items).toEqual([]);
    expect(runner.state().failed).toEqual([]);
    expect(server.versions.get('s1')).toBe(2); // labeled once
  });

  it('keeps order: a relabel and an undo made while offline go out after the label they build on', async () => {
    const server = fakeServer();
    const clock = manualClock();
    const runner = createSaveRunner({ transport: server.transport, ...clock });
    server.setOnline(false);
    runner.enqueue(label('l1', 's1', 1, 0));
    runner.enqueue(label('l2', 's2', 1, 0));
    runner.enqueue(label('l3', 's1', 1, 3)); // relabel of s1, made before l1 was acknowledged
    runner.enqueue({ kind: 'undo', requestId: 'u1', projectId: 'p', sampleId: 's2' });
    await flush();
    server.setOnline(true);
    runner.retryNow();
    await flush();
    await runner.idle();
    // Offline, only the head was tried; then everything went out in the order it was made.
    expect(server.calls.map((c) => c.requestId)).toEqual(['l1', 'l1', 'l2', 'l3', 'u1']);
    // The relabel applied to the version the first label produced.
    expect(server.calls.find((c) => c.requestId === 'l3')?.version).toBe(2);
    expect(server.versions.get('s1')).toBe(3);
    expect(server.versions.get('s2')).toBe(3);
    expect(runner.state()).toEqual({ items: [], failed: [] });
  });

  it('never shows a write as saved while the server has not answered', async () => {
    let answer: (v: { sample: Sample }) => void = () => undefined;
    const transport: SaveTransport = {
      annotate: () => new Promise((resolve) => (answer = resolve)),
      undo: () => Promise.reject(new Error('unused')),
    };
    const runner = createSaveRunner({ transport, ...manualClock() });
    runner.enqueue(label('a', 's1', 1));
    await flush();
    expect(sampleStatus(runner.state(), 's1')).toBe('saving');
    expect(runner.state().items).toHaveLength(1);
    answer({ sample: { sampleId: 's1', version: 2 } as Sample });
    await flush();
    expect(sampleStatus(runner.state(), 's1')).toBeUndefined();
  });

  it('lists a refused write (stale version) instead of retrying it forever', async () => {
    const server = fakeServer();
    server.versions.set('s1', 5);
    const runner = createSaveRunner({ transport: server.transport, ...manualClock() });
    runner.enqueue(label('a', 's1', 1));
    await runner.idle();
    expect(runner.state().items).toEqual([]);
    expect(runner.state().failed).toMatchObject([{ code: 'stale_version', op: { requestId: 'a' } }]);
    runner.dismiss('a');
    expect(runner.state().failed).toEqual([]);
  });

  it('keeps a write refused with 401 queued and unsent until the labeler is signed in again', async () => {
    const server = fakeServer();
    let signedIn = true;
    let expired = true;
    const sent: string[] = [];
    const annotate = server.transport.annotate;
    server.transport.annotate = async (...args) => {
      sent.push(args[2].requestId);
      if (expired) throw new ApiError(401, 'unauthorized', 'token expired');
      return annotate(...args);
    };
    const clock = manualClock();
    const runner = createSaveRunner({ transport: server.transport, ready: () => signedIn, ...clock });
    runner.enqueue(label('a', 's1', 1));
    await runner.idle();
    // Not failed, not dropped: waiting, and nothing more is sent while signed out (not even on the timer).
    signedIn = false;
    expect(runner.state().failed).toEqual([]);
    expect(sampleStatus(runner.state(), 's1')).toBe('unsaved');
    runner.enqueue(label('b', 's2', 1));
    await clock.advance(60_000);
    expect(sent).toEqual(['a']);
    // Signed in again: both go out, the first with its original key.
    signedIn = true;
    expired = false;
    runner.retryNow();
    await flush();
    await runner.idle();
    expect(sent).toEqual(['a', 'a', 'b']);
    expect(runner.state()).toEqual({ items: [], failed: [] });
  });

  it('resends writes restored from a previous page load, even ones that were in flight', async () => {
    const server = fakeServer();
    let q = enqueue(emptyQueue(), label('restored', 's9', 1));
    q = { ...q, items: q.items.map((i) => ({ ...i, sending: true })) };
    const runner = createSaveRunner({ transport: server.transport, initial: q, ...manualClock() });
    runner.retryNow();
    await runner.idle();
    expect(server.calls.map((c) => c.requestId)).toEqual(['restored']);
    expect(runner.state().items).toEqual([]);
  });
});
