// Importing existing labels on the real local stack (dynalite, s3rver, ingest with the ONNX models), through the
// command a user runs: a BCCD subset's VOC folder creates a box-review project, uploads and ingests the images and
// labels every box; a re-run adds nothing; COCO boxes become proposals to review; a failing import writes nothing
// and says why; a zip with a path-traversal entry is refused before anything is uploaded.

import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLabelImport } from '../../functions/cli/import-labels.js';
import { localTarget } from '../../functions/cli/stack-client.js';
import { parseVoc } from '../../functions/domain/interchange/import/voc.js';
import { imageIdFor } from '../../functions/domain/ingest.js';
import type { LocalStack } from '../../functions/local/stack.js';
import { BCCD, BCCD_CLASSES, bccdCoco, bccdIds, bccdSubset } from '../support/bccd.js';
import { REPO } from '../support/paths.js';
import { devNull } from '../support/streams.js';
import { startTestStack, tempDir } from '../support/stack.js';

const winnow = (args: string[]) =>
  promisify(execFile)(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', path.join(REPO, 'functions/cli/main.ts'), ...args], { cwd: REPO })
    .then((r) => ({ code: 0, out: r.stdout + r.stderr }))
    .catch((e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }));

describe('import-labels on the local stack', () => {
  let stack: LocalStack;
  let dataDir: string;
  let ids: string[];
  let folder: string;
  beforeAll(async () => {
    dataDir = await tempDir('labels');
    ids = await bccdIds(12);
    folder = await bccdSubset(await tempDir('bccd'), ids);
    stack = await startTestStack(dataDir);
  });
  afterAll(async () => stack?.close());

  it('imports a VOC folder into a new box-review project, box by box, and a re-run adds nothing', async () => {
    const report = path.join(await tempDir('report'), 'report.csv');
    const args = ['import-labels', folder, '--format', 'voc', '--project', 'cells', '--data', dataDir];
    const run = await winnow([...args, '--create-project', '--report', report]);
    expect(run.out).toContain('created box-review project "cells" with classes');
    const boxes = await Promise.all(ids.map(async (id) => parseVoc(await readFile(path.join(BCCD, 'Annotations', `${id}.xml`), 'utf8'), id).items[0]));
    const total = boxes.reduce((n, i) => n + i.boxes.length, 0);
    expect(run.out).toContain(`imported 12 images as labels: 12 labels (${total} boxes), 0 existing labels kept, 0 unchanged`);
    expect(run.code).toBe(0);

    const project = await stack.stores.projects.get('cells');
    expect(project?.taskType).toBe('box-review');
    for (const item of boxes) {
      const imageId = imageIdFor(`uploads/cells/${item.file}`);
      const sample = await stack.stores.samples.getSample('cells', imageId);
      expect(sample?.label?.boxes?.map((b) => [project!.classes[b.classIndex], b.box])).toEqual(item.boxes.map((b) => [b.class, b.box]));
      expect(sample?.label?.boxes?.every((b) => b.source === 'labeler')).toBe(true);
    }
    const csv = (await readFile(report, 'utf8')).split('\n');
    expect(csv[0]).toBe('ok,source,file,image,code,problem,action');
    expect(csv).toContain(`true,Annotations/${ids[0]}.xml,JPEGImages/${ids[0]}.jpg,JPEGImages/${ids[0]}.jpg,,,label: ${boxes[0].boxes.length} boxes`);

    const annotations = (await stack.stores.annotations.listForProject('cells', { limit: 1000 })).items.length;
    const again = await winnow(args);
    expect(again.out).toContain(`imported 12 images as labels: 0 labels (${total} boxes), 0 existing labels kept, 12 unchanged`);
    expect(again.code).toBe(0);
    expect((await stack.stores.annotations.listForProject('cells', { limit: 1000 })).items).toHaveLength(annotations);
  });

  it('dry runs write nothing: not even the project or its images', async () => {
    const target = await localTarget(dataDir);
    const fresh = await runLabelImport(async () => target, { path: folder, format: 'voc', project: 'not-yet', createProject: true, dryRun: true, mode: 'labels', out: devNull() });
    expect(fresh).toMatchObject({ ok: true, applied: false, uploaded: 0 });
    const firstBoxes = parseVoc(await readFile(path.join(BCCD, 'Annotations', `${ids[0]}.xml`), 'utf8'), ids[0]).items[0].boxes.length;
    expect(fresh.rows[0]).toMatchObject({ ok: true, action: `would upload JPEGImages/${ids[0]}.jpg from ${folder} and import ${firstBoxes} boxes` });
    expect(await stack.stores.projects.get('not-yet')).toBeUndefined();
    expect((await stack.stores.blobs.list('uploads/not-yet/')).items).toEqual([]);

    const before = (await stack.stores.annotations.listForProject('cells', { limit: 1000 })).items.length;
    const existing = await runLabelImport(async () => target, { path: folder, format: 'voc', project: 'cells', overwrite: true, dryRun: true, mode: 'labels', out: devNull() });
    expect(existing).toMatchObject({ ok: true, applied: false, summary: { items: 12, labels: 0, unchanged: 12 } });
    expect((await stack.stores.annotations.listForProject('cells', { limit: 1000 })).items).toHaveLength(before);
  });

  it('imports COCO boxes as proposals to review, with images it already has', async () => {
    const target = await localTarget(dataDir);
    const result = await runLabelImport(async () => target, {
      path: path.join(folder, 'annotations_coco.json'), format: 'coco', project: 'cells', mode: 'proposals', out: devNull(),
    });
    expect(result).toMatchObject({ ok: true, applied: true, uploaded: 0, summary: { items: 12, proposals: 12, failed: 0 } });
    const coco = await bccdCoco(ids);
    const first = coco.images[0];
    const sample = await stack.stores.samples.getSample('cells', imageIdFor(`uploads/cells/${first.file_name}`));
    const expected = coco.annotations.filter((a: { image_id: number }) => a.image_id === first.id)
      .map((a: { bbox: number[] }) => [a.bbox[0], a.bbox[1], a.bbox[0] + a.bbox[2], a.bbox[1] + a.bbox[3]]);
    expect(sample?.proposals?.map((p) => p.box)).toEqual(expected);
    expect(sample?.proposals?.every((p) => p.source === 'model')).toBe(true);
    expect(sample?.label?.boxes).toHaveLength(expected.length); // the labels stay as they were
  });

  it('refuses an import with an unknown class, naming the row, and writes nothing', async () => {
    const dir = await tempDir('bad-voc');
    const xml = (await readFile(path.join(BCCD, 'Annotations', `${ids[0]}.xml`), 'utf8')).replace('<name>WBC</name>', '<name>Neutrophil</name>');
    await writeFile(path.join(dir, `${ids[0]}.xml`), xml);
    const before = (await stack.stores.annotations.listForProject('cells', { limit: 1000 })).items.length;
    const report = path.join(dir, 'report.csv');
    const run = await winnow(['import-labels', path.join(dir, `${ids[0]}.xml`), '--format', 'voc', '--project', 'cells', '--overwrite', '--report', report, '--data', dataDir]);
    expect(run.code).toBe(1);
    expect(run.out).toContain('problems found; nothing was imported or uploaded');
    expect(run.out).toContain(`${ids[0]}.xml object 1`);
    const classes = (await stack.stores.projects.get('cells'))!.classes;
    expect([...classes].sort()).toEqual([...BCCD_CLASSES].sort());
    expect(run.out).toContain(`unknown class "Neutrophil": the project's classes are ${classes.join(', ')}`);
    expect(await readFile(report, 'utf8')).toContain(',unknown_class,');
    expect((await stack.stores.annotations.listForProject('cells', { limit: 1000 })).items).toHaveLength(before);
  });

  it('refuses a zip with a path-traversal entry before uploading anything', async () => {
    const dir = await tempDir('zip');
    const id = ids[0];
    const zip = zipSync({
      [`Annotations/${id}.xml`]: new Uint8Array(await readFile(path.join(BCCD, 'Annotations', `${id}.xml`))),
      [`JPEGImages/${id}.jpg`]: new Uint8Array(await readFile(path.join(BCCD, 'JPEGImages', `${id}.jpg`))),
      '../evil.jpg': new Uint8Array(await readFile(path.join(BCCD, 'JPEGImages', `${id}.jpg`))),
    });
    await writeFile(path.join(dir, 'labels.zip'), zip);
    const run = await winnow(['import-labels', path.join(dir, 'labels.zip'), '--format', 'voc', '--project', 'zipped', '--create-project', '--data', dataDir]);
    expect(run.code).toBe(1);
    expect(run.out).toContain('archive entry "../evil.jpg"');
    expect(run.out).toContain('its name climbs out of the archive');
    expect(await stack.stores.projects.get('zipped')).toBeUndefined();
    expect((await stack.stores.blobs.list('uploads/zipped/')).items).toEqual([]);

    // The same archive without that entry imports: its image is extracted and uploaded under its path in the zip.
    const clean = zipSync({
      [`Annotations/${id}.xml`]: new Uint8Array(await readFile(path.join(BCCD, 'Annotations', `${id}.xml`))),
      [`JPEGImages/${id}.jpg`]: new Uint8Array(await readFile(path.join(BCCD, 'JPEGImages', `${id}.jpg`))),
    });
    await writeFile(path.join(dir, 'clean.zip'), clean);
    const target = await localTarget(dataDir);
    const result = await runLabelImport(async () => target, { path: path.join(dir, 'clean.zip'), format: 'voc', project: 'zipped', mode: 'labels', createProject: true, out: devNull() });
    expect(result).toMatchObject({ ok: true, applied: true, uploaded: 1, summary: { labels: 1 } });
    expect((await stack.stores.blobs.list('uploads/zipped/')).items.map((o) => o.key)).toEqual([`uploads/zipped/JPEGImages/${id}.jpg`]);
  });
});
