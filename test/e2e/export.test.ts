// Exports end to end on the real local stack: photos ingested by the real pipeline (sharp + ONNX), boxes labeled
// through the API, then exports started through the API and the CLI, streamed into the S3 emulator, downloaded
// through presigned links and unzipped: boxes in the frame a trainer sees, an EXIF-rotated photo written upright,
// unsafe upload names made safe, real embeddings as a float32 .npy.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { unzipSync } from 'fflate';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExportCommand } from '../../functions/cli/export.js';
import { parseNpy } from '../../functions/cli/npy.js';
import { localTarget } from '../../functions/cli/stack-client.js';
import type { LocalStack } from '../../functions/local/stack.js';
import { FLOWERS } from '../support/paths.js';
import { apiClient, startTestStack, tempDir, waitFor } from '../support/stack.js';

const PROJECT = 'cells';
const RED = { r: 220, g: 20, b: 20 };
/** Where the red block is in the upright picture. */
const BLOCK: [number, number, number, number] = [50, 100, 150, 300];

/** 400x600 upright, stored sideways with EXIF orientation 6 (a phone held upright). */
async function sidewaysPhoto(): Promise<Buffer> {
  const upright = await sharp({ create: { width: 400, height: 600, channels: 3, background: '#ffffff' } })
    .composite([{ input: { create: { width: 100, height: 200, channels: 3, background: RED } }, left: BLOCK[0], top: BLOCK[1] }])
    .png()
    .toBuffer();
  return sharp(upright).rotate(270).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
}

describe('exports on the local stack', () => {
  let stack: LocalStack;
  let dataDir: string;
  const admin = () => apiClient(stack.url, 'olga');

  beforeAll(async () => {
    dataDir = await tempDir('export-e2e');
    stack = await startTestStack(dataDir);
    const created = await admin()('POST', '/api/projects', { id: PROJECT, name: 'Cells', classes: ['block', 'flower'], taskType: 'box-review' });
    expect(created.status).toBe(201);
    const flower = await readFile(path.join(FLOWERS, 'daisy/100080576_f52e8ee070_n.jpg'));
    await stack.stores.blobs.put(`uploads/${PROJECT}/phone.jpg`, await sidewaysPhoto(), 'image/jpeg');
    await stack.stores.blobs.put(`uploads/${PROJECT}/sub dir/bad:name=1\u0007.jpg`, flower, 'image/jpeg');
    await waitFor(async () => {
      const { json } = await admin()('GET', `/api/projects/${PROJECT}/images`);
      return json.images.length === 2 && json.images.every((i: { status: string }) => i.status === 'ready');
    }, 'ingest of both photos', 120_000);

    // Label both through the API: the block on the phone photo; the flower as "no objects" is not true, so a box.
    const ann = apiClient(stack.url, 'ann');
    for (;;) {
      const next = await ann('GET', `/api/projects/${PROJECT}/next?count=1`);
      if (next.json.samples.length === 0) break;
      const { sample, image } = next.json.samples[0];
      const boxes = image.key.endsWith('phone.jpg') ? [{ box: BLOCK, classIndex: 0 }] : [{ box: [10, 10, 200, 150], classIndex: 1 }];
      const res = await ann('POST', `/api/projects/${PROJECT}/samples/${sample.sampleId}/annotations`, {
        version: sample.version, requestId: `e2e-${sample.sampleId}`, confidences: [0, 0], boxes,
      });
      expect(res.status).toBe(201);
    }
  }, 180_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('exports COCO with upright images through the API and a presigned download', async () => {
    const started = await admin()('POST', `/api/projects/${PROJECT}/exports`, { format: 'coco' });
    expect(started.status).toBe(202);
    const done = await waitFor(async () => {
      const { json } = await admin()('GET', started.json.statusUrl);
      if (json.state === 'failed') throw new Error(json.reason);
      return json.state === 'done' && json;
    }, 'the export', 60_000);
    expect(done.counts).toMatchObject({ images: 2, boxes: 2, files: 2, rotated: 1 });

    const res = await fetch(done.downloadUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain(`filename="${done.fileName}"`);
    const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
    expect(Object.keys(files).sort()).toEqual(['annotations/instances.json', 'images/phone.jpg', 'images/sub dir/bad_name=1_.jpg']);

    const coco = JSON.parse(Buffer.from(files['annotations/instances.json']).toString());
    const phone = coco.images.find((i: { file_name: string }) => i.file_name === 'phone.jpg');
    expect(phone).toMatchObject({ width: 400, height: 600 }); // upright, as ingest measured it
    const box = coco.annotations.find((a: { image_id: number }) => a.image_id === phone.id);
    expect(box).toMatchObject({ category_id: 1, bbox: [50, 100, 100, 200], area: 20000, iscrowd: 0 });

    // The archived photo is upright with no orientation tag: the box's centre is red without applying EXIF.
    const image = files['images/phone.jpg'];
    const meta = await sharp(image).metadata();
    expect([meta.width, meta.height, meta.orientation ?? 1]).toEqual([400, 600, 1]);
    const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3);
    expect([...at(100, 200)].map((v) => v > 128)).toEqual([true, false, false]); // red
    expect([...at(300, 500)].every((v) => v > 200)).toBe(true); // white
  });

  it('exports YOLO through the CLI, which waits and downloads the file', async () => {
    const output = path.join(dataDir, 'cells-yolo.zip');
    const lines: string[] = [];
    const file = await runExportCommand(await localTarget(dataDir), {
      project: PROJECT, format: 'yolo', excludeAmbiguous: false, all: false, images: false, output, log: (l) => lines.push(l), pollMs: 100,
    });
    expect(file).toBe(output);
    expect(lines.at(-1)).toMatch(/^downloaded .*2 images, 2 boxes/);
    const files = unzipSync(new Uint8Array(await readFile(file)));
    expect(Buffer.from(files['labels/train/phone.txt']).toString()).toBe('0 0.25 0.333333 0.25 0.333333\n');
    expect(Object.keys(files).some((k) => k.startsWith('images/'))).toBe(false);
  });

  it('exports the real embeddings as float32 .npy with an index', async () => {
    const output = path.join(dataDir, 'cells-embeddings.zip');
    await runExportCommand(await localTarget(dataDir), {
      project: PROJECT, format: 'embeddings', excludeAmbiguous: false, all: false, images: false, output, log: () => undefined, pollMs: 100,
    });
    const files = unzipSync(new Uint8Array(await readFile(output)));
    const npy = parseNpy(new Uint8Array(files['features.npy']));
    expect([npy.rows, npy.cols]).toEqual([2, 1280]);
    const norms = [0, 1].map((r) => Math.hypot(...npy.data.subarray(r * 1280, (r + 1) * 1280)));
    for (const n of norms) expect(n).toBeCloseTo(1, 2); // the embedder's unit vectors, through fp16 storage
    const rows = Buffer.from(files['labels.csv']).toString().trim().split('\n').slice(1);
    expect(rows.map((r) => r.split(',')[3]).sort()).toEqual(['0', '1']);
  });

  it('reports a refused export with the server\'s reason', async () => {
    await expect(
      runExportCommand(await localTarget(dataDir), {
        project: PROJECT, format: 'folders', excludeAmbiguous: false, all: false, images: false, log: () => undefined,
      }),
    ).rejects.toThrow(/export refused \(400\).*cannot leave them out/);
  });
});
