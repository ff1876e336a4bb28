// `winnow export` against the real API app (in-memory stores, the real job code and ZIP writer) behind a plain HTTP
// server that can make status polls fail the way a restarting server or a proxy does: the CLI waits out transient
// 5xx and network errors instead of giving up on a job that finishes, and when it does give up (or the export is
// refused) its message carries the request id it tells the user to look up.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inProcessExportRunner } from '../../functions/adapters/export/runners.js';
import { zipArchive } from '../../functions/adapters/export/zip.js';
import { createApp } from '../../functions/api/app.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import { runExportCommand } from '../../functions/cli/export.js';
import type { Target } from '../../functions/cli/stack-client.js';
import { runExport, type ExportDeps } from '../../functions/domain/interchange/export/job.js';
import type { TaskType } from '../../functions/domain/model.js';
import { tempDir } from '../support/stack.js';
import { exportFixture, memoryExportObjects } from './export-support.js';

/** What the server does to the next status poll: pass it on, answer 500, or drop the connection. */
type Fault = 'pass' | 500 | 'drop';

describe('winnow export: status polls', () => {
  let server: Server;
  let base: string;
  let dir: string;
  let faults: Fault[] = [];
  let polls = 0;

  async function serve(taskType: TaskType) {
    const f = await exportFixture(taskType, ['daisy', 'tulip']);
    await f.add({
      n: 1,
      file: 'one.jpg',
      width: 200,
      height: 100,
      label: taskType === 'box-review' ? { confidences: [0, 0], boxes: [{ box: [10, 20, 110, 70], classIndex: 1 }] } : { confidences: [0, 1] },
    });
    const objects = memoryExportObjects(f.stores.blobs);
    let deps: ExportDeps;
    const runner = inProcessExportRunner((job) => runExport(deps, job), () => undefined);
    deps = {
      stores: f.stores,
      objects: {
        ...objects,
        // The download link goes through this server, which redeems the memory store's presigned URL.
        presignDownload: async (key, fileName, ttl) => `${base}/download?url=${encodeURIComponent(await objects.presignDownload(key, fileName, ttl))}`,
      },
      createArchive: (sink) => zipArchive(sink),
      defaultEmbeddingModel: 'm',
      runner,
    };
    const app = createApp({
      stores: f.stores,
      featureVectors: shardFeatureVectors(f.stores.blobs, f.stores.clock),
      authenticate: async () => ({ userId: 'olga', groups: ['admin'] }),
      exports: deps,
    });
    server = createServer((req: IncomingMessage, res: ServerResponse) => void handle(req, res));
    async function handle(req: IncomingMessage, res: ServerResponse) {
      const url = new URL(req.url ?? '/', base);
      if (url.pathname === '/download') {
        const found = await f.stores.blobs.fetchPresigned(url.searchParams.get('url')!);
        res.writeHead(found.status).end(Buffer.from(await found.arrayBuffer()));
        return;
      }
      if (req.method === 'GET' && url.pathname.includes('/exports/')) {
        polls++;
        const fault = faults.shift() ?? 'pass';
        if (fault === 'drop') return req.socket.destroy();
        if (fault === 500) {
          await runner.idle(); // the job finishes meanwhile, as it did in the report
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ code: 'internal', message: 'internal error; see the server log for this requestId', requestId: `req-${polls}` }));
          return;
        }
      }
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const answer = await app.request(url.pathname + url.search, {
        method: req.method,
        headers: req.headers as Record<string, string>,
        body: chunks.length ? Buffer.concat(chunks) : undefined,
      });
      res.writeHead(answer.status, Object.fromEntries(answer.headers));
      res.end(Buffer.from(await answer.arrayBuffer()));
    }
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const target = (): Target => ({ apiUrl: base, headers: {} } as unknown as Target);
  const run = (format: 'yolo' | 'csv' | 'voc', lines: string[] = []) =>
    runExportCommand(target(), {
      project: 'proj', format, excludeAmbiguous: false, all: false, images: false,
      output: path.join(dir, `out-${format}`), log: (l) => lines.push(l), pollMs: 10, retryMs: 20,
    });

  beforeEach(async () => {
    faults = [];
    polls = 0;
    dir = await tempDir('export-cli');
  });
  afterEach(async () => {
    await new Promise((r) => server?.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it('retries a status poll that met a 500 or a dropped connection, and downloads the finished export', async () => {
    await serve('box-review');
    faults = [500, 'drop', 500];
    const lines: string[] = [];
    const file = await run('yolo', lines);
    const files = unzipSync(new Uint8Array(await readFile(file)));
    expect(Buffer.from(files['labels/train/one.txt']).toString()).toBe('1 0.3 0.45 0.5 0.5\n');
    expect(polls).toBeGreaterThanOrEqual(4);
    expect(lines.filter((l) => l.includes('trying again'))).toHaveLength(3);
    expect(lines.find((l) => l.includes('(500)'))).toContain('request id req-1');
  });

  it('gives up after the retries with the last request id in the message', async () => {
    await serve('box-review');
    faults = [500, 500, 500, 500, 500, 500, 500, 500];
    await expect(run('yolo')).rejects.toThrow(/export status unavailable after 7 tries \(500\): internal error; see the server log for this requestId \(request id req-7\)/);
  });

  it('refuses YOLO and VOC for a classification project, naming the formats that carry image-level labels', async () => {
    await serve('single-label');
    for (const format of ['yolo', 'voc'] as const) {
      await expect(run(format)).rejects.toThrow(
        new RegExp(`export refused \\(400\\): ${format} carries boxes only.*coco, csv, jsonl, folders, embeddings.*\\(request id [\\w-]+\\)`),
      );
    }
    const file = await run('csv');
    expect(await readFile(file, 'utf8')).toContain('tulip');
  });
});
