// The interchange promise, on the real local stack: import a BCCD subset (once from its VOC files, once from its
// COCO file), export each format Winnow can read back (COCO, VOC, YOLO, CSV; archives with the images), import
// each archive into a fresh project, and find every box again (same class, each edge within 0.5 px) and every
// label (same confidences and ambiguous flag). The archives carry the images: the fresh projects get them from
// there, as a user moving labels between installations would.

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLabelImport, type LabelImportOptions } from '../../functions/cli/import-labels.js';
import { localTarget, type Target } from '../../functions/cli/stack-client.js';
import { baseName } from '../../functions/domain/interchange/names.js';
import type { Box, LabelHead } from '../../functions/domain/model.js';
import type { LocalStack } from '../../functions/local/stack.js';
import { BCCD_CLASSES, bccdIds, bccdSubset } from '../support/bccd.js';
import { devNull } from '../support/streams.js';
import { apiClient, startTestStack, tempDir, waitFor } from '../support/stack.js';

const FORMATS = ['coco', 'voc', 'yolo', 'csv'] as const;
const SOURCES = [
  { project: 'from-voc', format: 'voc' as const, path: (dir: string) => dir },
  { project: 'from-coco', format: 'coco' as const, path: (dir: string) => path.join(dir, 'annotations_coco.json') },
];

type Labels = Map<string, { classes: string[]; label: LabelHead }>;

describe('interchange round trip on the local stack', () => {
  let stack: LocalStack;
  let target: Target;
  let api: ReturnType<typeof apiClient>;
  let work: string;
  let folder: string;

  /** A box-review project without the detector (BCCD's cells are no COCO class; the labels come from files). */
  const createProject = async (id: string) => {
    const res = await api('POST', '/api/projects', { id, classes: BCCD_CLASSES, taskType: 'box-review', detection: { enabled: false } });
    expect(res.status).toBe(201);
  };
  const importInto = async (opts: Pick<LabelImportOptions, 'path' | 'format' | 'project'>) => {
    const result = await runLabelImport(async () => target, { ...opts, mode: 'labels', out: devNull() });
    expect(result.rows.filter((r) => !r.ok)).toEqual([]);
    expect(result.applied).toBe(true);
    return result;
  };

  beforeAll(async () => {
    const dataDir = await tempDir('roundtrip');
    work = await tempDir('roundtrip-files');
    folder = await bccdSubset(path.join(work, 'bccd'), await bccdIds(6, 100));
    stack = await startTestStack(dataDir);
    target = await localTarget(dataDir);
    api = apiClient(stack.url, 'olga');
    for (const source of SOURCES) {
      await createProject(source.project);
      await importInto({ path: source.path(folder), format: source.format, project: source.project });
    }
  });
  afterAll(async () => stack?.close());

  /** Every labeled image of a project by base file name (paths differ between layouts), boxes by class name. */
  async function labelsOf(projectId: string): Promise<Labels> {
    const project = (await stack.stores.projects.get(projectId))!;
    const images = new Map((await stack.stores.samples.listImages(projectId, { limit: 1000 })).items.map((i) => [i.imageId, baseName(i.key)]));
    const labels: Labels = new Map();
    for (const sample of (await stack.stores.samples.listSamples(projectId, { limit: 1000 })).items) {
      if (sample.label) labels.set(images.get(sample.imageId)!, { classes: project.classes, label: sample.label });
    }
    return labels;
  }

  async function exportArchive(projectId: string, format: string): Promise<string> {
    const started = await api('POST', `/api/projects/${projectId}/exports`, { format, images: true });
    expect(started.status).toBe(202);
    const done = await waitFor(async () => {
      const status = (await api('GET', started.json.statusUrl)).json;
      if (status.state === 'failed') throw new Error(`${format} export failed: ${status.reason}`);
      return status.state === 'done' && status;
    }, `${format} export of ${projectId}`);
    const file = path.join(work, `${projectId}-${format}.zip`);
    await writeFile(file, new Uint8Array(await (await fetch(done.downloadUrl)).arrayBuffer()));
    return file;
  }

  it('imports the same boxes from BCCD\'s VOC and COCO files', async () => {
    const voc = await labelsOf('from-voc');
    const coco = await labelsOf('from-coco');
    expect(voc.size).toBe(6);
    for (const [file, { label, classes }] of coco) {
      expectSameLabel({ classes, label }, voc.get(file), `${file} (COCO vs VOC)`);
    }
  });

  for (const source of SOURCES) {
    for (const format of FORMATS) {
      it(`${source.format} import -> ${format} export -> ${format} import gives every box and label back`, async () => {
        const archive = await exportArchive(source.project, format);
        const fresh = `${source.project}-${format}`;
        await createProject(fresh);
        const result = await importInto({ path: archive, format, project: fresh });
        expect(result.uploaded).toBe(6);
        const before = await labelsOf(source.project);
        const after = await labelsOf(fresh);
        expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
        for (const [file, labeled] of before) expectSameLabel(labeled, after.get(file), `${file} via ${format}`);
      });
    }
  }
});

/** Same confidences and ambiguous flag; the same boxes by class name, each edge within 0.5 px (in any order). */
function expectSameLabel(expected: { classes: string[]; label: LabelHead }, actual: { classes: string[]; label: LabelHead } | undefined, what: string) {
  expect(actual, what).toBeDefined();
  const named = (l: { classes: string[]; label: LabelHead }) => ({
    confidences: Object.fromEntries(l.classes.map((c, i) => [c, l.label.confidences[i]])),
    ambiguous: l.label.ambiguous,
  });
  expect(named(actual!), what).toEqual(named(expected));
  const boxes = (l: { classes: string[]; label: LabelHead }) => (l.label.boxes ?? []).map((b) => ({ cls: l.classes[b.classIndex], box: b.box }));
  const left = boxes(actual!);
  for (const want of boxes(expected)) {
    const at = left.findIndex((got) => got.cls === want.cls && got.box.every((v, i) => Math.abs(v - want.box[i]) <= 0.5));
    expect(at, `${what}: ${want.cls} [${want.box.join(', ')}] not found in [${left.map((b) => `${b.cls} ${b.box.join(',')}`).join('; ')}]`).toBeGreaterThanOrEqual(0);
    left.splice(at, 1);
  }
  expect(left, `${what}: boxes that were not there before`).toEqual([]);
}
