// The foundation's promise, end to end on the real local stack: import a folder, label through the API,
// stop, start again on the same data folder, and find every label.

import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { importFolder } from '../../functions/cli/import.js';
import { localTarget } from '../../functions/cli/stack-client.js';
import type { LocalStack } from '../../functions/local/stack.js';
import { FLOWERS } from '../support/paths.js';
import { apiClient, startTestStack, tempDir } from '../support/stack.js';

const PICK = ['daisy/100080576_f52e8ee070_n.jpg', 'daisy/9158041313_7a6a102f7a_n.jpg', 'roses/10090824183_d02c613f10_m.jpg'];

async function photoFolder(): Promise<string> {
  const dir = await tempDir('photos');
  const { readdir } = await import('node:fs/promises');
  const roses = (await readdir(path.join(FLOWERS, 'roses'))).filter((f) => f.endsWith('.jpg')).slice(0, 2);
  const files = [PICK[0], PICK[1], ...roses.map((f) => `roses/${f}`)];
  for (const rel of files) {
    await mkdir(path.join(dir, path.dirname(rel)), { recursive: true });
    await cp(path.join(FLOWERS, rel), path.join(dir, rel));
  }
  await writeFile(path.join(dir, 'notes.txt'), 'shot list for the flower project\n');
  await writeFile(path.join(dir, 'daisy', 'not-really.jpg'), 'this is text, not a JPEG');
  return dir;
}

describe('local stack end to end', () => {
  let stack: LocalStack | undefined;
  afterAll(async () => {
    await stack?.close();
  });

  it('imports a folder, labels by API, and keeps every label across a restart', async () => {
    const dataDir = await tempDir('data');
    const photos = await photoFolder();
    stack = await startTestStack(dataDir);
    const out = new PassThrough();
    let printed = '';
    out.on('data', (chunk) => (printed += chunk));

    const target = await localTarget(dataDir);
    const report = await importFolder(target, {
      dir: photos, project: 'flowers', classes: ['daisy', 'roses'], concurrency: 4, wait: true, out: out as never,
    });
    expect(report.uploaded).toBe(4);
    expect(report.rejected.map((r) => r.file).sort()).toEqual(['daisy/not-really.jpg', 'notes.txt']);
    expect(printed).toContain('skipped notes.txt: not an image: looks like plain text');

    // Every ready image's embedding went to the trainer's shard files.
    const shards = await stack.stores.blobs.list('embeddings/flowers/');
    expect(shards.items.length).toBeGreaterThan(0);

    const ann = apiClient(stack.url, 'ann');
    let progress = await ann('GET', '/api/projects/flowers/progress');
    expect(progress.json).toMatchObject({ total: 4, labeled: 0, images: { ready: 4, failed: 0, pending: 0 } });

    // Label every sample: the true class comes from the folder name in the object key.
    const labeled: Record<string, number> = {};
    for (;;) {
      const next = await ann('GET', '/api/projects/flowers/next?count=1');
      expect(next.status).toBe(200);
      if (next.json.samples.length === 0) break;
      const { sample, image } = next.json.samples[0];
      const classIndex = image.key.includes('/daisy/') ? 0 : 1;
      const res = await ann('POST', `/api/projects/flowers/samples/${sample.sampleId}/annotations`, {
        version: sample.version, requestId: `e2e-${sample.sampleId}`, classIndex,
      });
      expect(res.status).toBe(201);
      labeled[sample.sampleId] = classIndex;
      const img = await fetch(image.url);
      // These small upright JPEGs are shown as they are (no display copy), always as image/jpeg.
      expect(img.headers.get('content-type')).toBe('image/jpeg');
    }
    expect(Object.keys(labeled)).toHaveLength(4);

    // A second import of the same folder uploads nothing and creates nothing.
    const again = await importFolder(target, { dir: photos, project: 'flowers', concurrency: 4, wait: true, out: out as never });
    expect(again).toMatchObject({ uploaded: 0, unchanged: 4 });

    await stack.close();
    stack = await startTestStack(dataDir);
    const after = apiClient(stack.url, 'ann');
    progress = await after('GET', '/api/projects/flowers/progress');
    expect(progress.json).toMatchObject({ total: 4, labeled: 4, me: { total: 4 }, byClass: [{ name: 'daisy', count: 2 }, { name: 'roses', count: 2 }] });
    for (const [sampleId, classIndex] of Object.entries(labeled)) {
      const { json } = await after('GET', `/api/projects/flowers/samples/${sampleId}`);
      expect(json.sample.label.confidences[classIndex]).toBe(1);
    }
  });
});
