// The local stack's ingest runs on a thread of its own with its own storage clients (functions/local/ingest-thread.ts),
// so the API's thread keeps only the analyzer's share of the work. What a user sees must not change: the images of
// an upload end ready exactly once with their samples and embeddings, the counts the API answers with include them
// as soon as ingest is idle, and a thread that dies mid-upload is replaced and its images finish anyway. Uploads
// come with their bytes from the emulator (no read back); what comes without them (reconcile) is read.

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AwsStores } from '../../functions/adapters/aws/clients.js';
import type { LocalStack } from '../../functions/local/stack.js';
import { FLOWERS } from '../support/paths.js';
import { apiClient, startTestStack, tempDir, waitFor } from '../support/stack.js';

const PROBE = new URL('./fixtures/thread-probe.ts', import.meta.url).href;

async function photos(n: number): Promise<{ name: string; bytes: Uint8Array }[]> {
  const names = (await readdir(path.join(FLOWERS, 'daisy'))).filter((f) => f.endsWith('.jpg')).sort().slice(0, n);
  return Promise.all(names.map(async (name) => ({ name, bytes: new Uint8Array(await readFile(path.join(FLOWERS, 'daisy', name))) })));
}

type Progress = { total: number; images: { ready: number; failed: number; pending: number } };


describe('ingest on its own thread', () => {
  let stack: LocalStack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  async function start() {
    stack = await startTestStack(await tempDir('ingest-thread'), { ingestThread: { instrument: PROBE }, ingestConcurrency: 8 });
    const owner = apiClient(stack.url, 'owner');
    expect((await owner('POST', '/api/projects', { id: 'p', classes: ['daisy', 'other'] })).status).toBe(201);
    return { stack, owner };
  }

  /** Uploads through the S3 emulator, as `aws s3 cp` would (each PUT raises the upload event). */
  const upload = (s: LocalStack, files: { name: string; bytes: Uint8Array }[]) =>
    Promise.all(files.map((f) => s.stores.blobs.put(`uploads/p/${f.name}`, f.bytes, 'image/jpeg')));

  it('ingests uploads off the API thread, with counts that include every image once idle', async () => {
    const { stack: s, owner } = await start();
    const files = await photos(12);
    // Counted on the API thread's own clients: ingest's requests are the thread's, not these.
    const { clients } = s.stores as AwsStores;
    const seen: string[] = [];
    type Stack = { add(mw: unknown, opts: { step: 'initialize'; name: string }): void };
    for (const client of [clients.s3, clients.dynamodb]) {
      (client.middlewareStack as Stack).add(
        (next: (a: unknown) => Promise<unknown>, ctx: { commandName?: string }) => (args: unknown) => {
          seen.push(ctx.commandName ?? '?');
          return next(args);
        },
        { step: 'initialize', name: 'testCount' },
      );
    }
    await upload(s, files);
    const putsHere = seen.length; // the test's own PUTs
    await s.ingest.idle();
    // No wait, no retry: the counts already hold every image (the thread's count writes were applied first).
    const progress = (await owner('GET', '/api/projects/p/progress')).json as Progress;
    expect(progress).toMatchObject({ total: 12, images: { ready: 12, failed: 0, pending: 0 } });
    expect(s.ingest.stats).toMatchObject({ ready: 12, failed: 0 });
    expect(seen.slice(putsHere).filter((c) => c !== 'GetItemCommand' && c !== 'QueryCommand')).toEqual([]); // only the API's reads
    const shards = await s.stores.blobs.list('embeddings/p/');
    expect(shards.items.length).toBeGreaterThan(0);
    expect(await s.ingest.thread!.probe<number>('threadId')).toBeGreaterThan(0); // not the main thread (0)
    // The emulator handed each upload's bytes over with its event: nothing was read back through the S3 API.
    const s3 = await s.ingest.thread!.probe<string[]>('s3Requests');
    expect(s3.filter((c) => c === 'GetObjectCommand')).toEqual([]);
    expect(s3.filter((c) => c === 'PutObjectCommand').length).toBeGreaterThanOrEqual(12); // the thumbnails
  });

  it('reads back what came without its bytes: uploads synced before the project existed', async () => {
    stack = await startTestStack(await tempDir('ingest-thread'), { ingestThread: { instrument: PROBE }, ingestConcurrency: 8 });
    const s = stack;
    const owner = apiClient(s.url, 'owner');
    await upload(s, await photos(3)); // no project yet: they wait, pending
    await s.ingest.idle();
    expect((await owner('POST', '/api/projects', { id: 'p', classes: ['daisy', 'other'] })).status).toBe(201);
    // Reconcile finds them in the bucket and queues them (events without bytes): ingest GETs each.
    const progress = await waitFor(async () => {
      await s.ingest.idle();
      const p = (await owner('GET', '/api/projects/p/progress')).json as Progress;
      return p.images.ready === 3 && p;
    }, 'three images ready after the project was created');
    expect(progress).toMatchObject({ total: 3, images: { ready: 3, failed: 0, pending: 0 } });
    const s3 = await s.ingest.thread!.probe<string[]>('s3Requests');
    expect(s3.filter((c) => c === 'GetObjectCommand')).toHaveLength(3);
  });

  it('starts a new thread when the thread dies mid-upload, and every image still ends ready exactly once', async () => {
    const { stack: s, owner } = await start();
    const files = await photos(24);
    await upload(s, files.slice(0, 4));
    await waitFor(async () => s.ingest.stats.ready > 0 || undefined, 'a first image ready');
    const first = await s.ingest.thread!.probe<number>('threadId');
    await s.ingest.thread!.probe('exitAfter', 50);
    await upload(s, files.slice(4));
    await s.ingest.idle();
    // The records, not the counts: a writer that dies between its write and its count leaves a mark that the counter
    // repairs a minute later (functions/adapters/aws/project-counter.ts), as after a crash of the whole stack.
    const listed = (await owner('GET', '/api/projects/p/images?limit=500')).json as { images: { status: string }[] };
    expect(listed.images.map((i) => i.status)).toEqual(Array(24).fill('ready'));
    expect(s.ingest.stats.failed).toBe(0);
    // Each image's sample exists once: the project's samples page through as 24.
    const samples = await s.stores.samples.listSamples('p', { limit: 100 });
    expect(new Set(samples.items.map((x) => x.imageId)).size).toBe(24);
    expect(samples.items).toHaveLength(24);
    expect(await s.ingest.thread!.probe<number>('threadId')).not.toBe(first); // a new thread took over
  });
});
