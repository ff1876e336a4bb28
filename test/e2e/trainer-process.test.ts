// The local stack retrains in a child process of its own at background priority, so that labelers are served while
// the model trains: every thread of that process (V8's collector threads included) is at the lowest priority (and
// under SCHED_IDLE where util-linux's chrt is there), and
// a trainer process that dies is started again by the next retrain, which then succeeds.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { ImageRecord, Sample } from '../../functions/domain/model.js';
import type { LocalStack } from '../../functions/local/stack.js';
import { BACKGROUND_NICE } from '../../functions/local/thread-priority.js';
import { appendEmbeddings } from '../../functions/adapters/embeddings/shards.js';
import { apiClient, sharedAnalyzer, startTestStack, tempDir } from '../support/stack.js';

const PROJECT = 'bg';
const linux = process.platform === 'linux';

describe('the trainer process of the local stack', () => {
  let stack: LocalStack | undefined;
  afterAll(async () => stack?.close());

  it('runs apart at background priority and comes back after a crash', async () => {
    stack = await startTestStack(await tempDir('trainer-process'), { trainer: { everyLabels: 1_000_000, afterMs: 3_600_000 } });
    const admin = apiClient(stack.url, 'owner');
    expect((await admin('POST', '/api/projects', { id: PROJECT, classes: ['a', 'b'] })).status).toBe(201);
    await seed(stack, 40);

    const first = await stack.trainer.flush(PROJECT);
    expect(first?.samples).toBe(40);
    if (!linux) {
      console.warn(`trainer-process.test: ${process.platform} has no /proc; thread priorities and the process id are not checked`);
      return;
    }
    const pid = trainerPid();
    expect(pid, 'a trainer child process is running').toBeDefined();
    expect(pid).not.toBe(process.pid);
    const nices = readdirSync(`/proc/${pid}/task`).map((tid) => niceOf(`/proc/${pid}/task/${tid}/stat`));
    expect(nices.length).toBeGreaterThan(1);
    for (const nice of nices) expect(nice).toBe(BACKGROUND_NICE);
    if (spawnSync('chrt', ['--idle', '0', 'true'], { stdio: 'ignore' }).status === 0) {
      expect(policyOf(`/proc/${pid}/stat`), 'SCHED_IDLE').toBe(5);
    } else {
      console.warn('trainer-process.test: no chrt here; the trainer runs at nice 19 under the normal policy');
    }
    expect(niceOf(`/proc/${process.pid}/stat`)).toBeLessThan(BACKGROUND_NICE); // the API is not lowered

    process.kill(pid!, 'SIGKILL');
    await waitUntil(() => trainerPid() === undefined);
    const again = await stack.trainer.flush(PROJECT);
    expect(again?.generation).toBeGreaterThan(first!.generation);
    expect(trainerPid()).not.toBe(pid);
    const next = await apiClient(stack.url, 'labeler')('GET', `/api/projects/${PROJECT}/next?count=1`);
    expect(next.status).toBe(200);
    expect(next.json.model.generation).toBe(again!.generation);
  });
});

function trainerPid(): number | undefined {
  for (const tid of readdirSync('/proc/self/task')) {
    const children = readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim();
    for (const pid of children ? children.split(/\s+/) : []) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('trainer-process-entry')) return Number(pid);
      } catch {
        // exited meanwhile
      }
    }
  }
  return undefined;
}

/** Scheduling policy, field 41 of /proc/<pid>/stat (5 = SCHED_IDLE). */
function policyOf(statFile: string): number {
  const stat = readFileSync(statFile, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]);
}

/** Field 19 of /proc/<pid>/stat (the 17th after the parenthesised command name). */
function niceOf(statFile: string): number {
  const stat = readFileSync(statFile, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

async function waitUntil(check: () => boolean) {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
}

async function seed(stack: LocalStack, n: number) {
  const images: ImageRecord[] = Array.from({ length: n }, (_, i) => {
    const at = new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString();
    return {
      projectId: PROJECT, imageId: `img${String(i).padStart(4, '0')}`, key: `uploads/${PROJECT}/${i}.jpg`, etag: `"${i}"`,
      bytes: 1000, width: 64, height: 64, contentType: 'image/jpeg', status: 'ready', order: `${at}|${i}`, createdAt: at, updatedAt: at,
    };
  });
  for (const image of images) await stack.stores.samples.putImageIfAbsent(image);
  const samples: Sample[] = images.map((image) => ({
    projectId: PROJECT, sampleId: image.imageId, imageId: image.imageId, kind: 'image', version: 0, labeledBy: [],
    order: `${image.order}#0000`, queueKey: `${image.order}#0000`, createdAt: image.createdAt,
  }));
  await stack.stores.samples.putSamplesIfAbsent(samples);
  const rows = samples.map((s, i) => ({ sampleId: s.sampleId, vector: Float32Array.from({ length: 16 }, (_, d) => Math.sin(i * 7 + d)) }));
  const embedder = (await sharedAnalyzer()).status().embedder;
  if (!embedder) throw new Error('the embedder model is missing');
  await appendEmbeddings(stack.stores.blobs, PROJECT, embedder, rows);
}
