// Round trip of image-level labels (classification projects) on the in-memory stores: labels written by
// labelers, exported by the COCO and CSV writers (without images), read back through the CLI's file reader and
// imported into a fresh project with the same images: every label comes back with its confidences and flag.

import { describe, expect, it } from 'vitest';
import { readLabelFiles, type LabelFormat } from '../../functions/cli/label-files.js';
import type { SourceTree } from '../../functions/cli/label-source.js';
import { annotate } from '../../functions/domain/annotate.js';
import { emptyCounts } from '../../functions/domain/interchange/export/context.js';
import { writeCoco } from '../../functions/domain/interchange/export/coco.js';
import { writeCsv } from '../../functions/domain/interchange/export/csv.js';
import type { Bytes } from '../../functions/domain/interchange/export/ports.js';
import { importLabels } from '../../functions/domain/interchange/import/import-labels.js';
import { imageIdFor } from '../../functions/domain/ingest.js';
import type { TaskType } from '../../functions/domain/model.js';
import { createProject } from '../../functions/domain/projects.js';
import { fixture } from './support.js';

const CLASSES = ['daisy', 'roses', 'tulips'];
const WRITERS = { coco: writeCoco, csv: writeCsv };

/** Labels per file; COCO lists asserted classes only (single-label: the top one; multi-label: >= 0.5). */
const CASES: { task: TaskType; labels: Record<string, { confidences: number[]; ambiguous?: boolean }> }[] = [
  {
    task: 'single-label',
    labels: {
      'daisy/1.jpg': { confidences: [1, 0, 0] },
      'roses/2.jpg': { confidences: [0, 0.75, 0], ambiguous: true },
      'mixed/=3.jpg': { confidences: [0, 0, 0.5] },
    },
  },
  {
    task: 'multi-label',
    labels: {
      'daisy/1.jpg': { confidences: [1, 0.5, 0] },
      'roses/2.jpg': { confidences: [0, 0.75, 1] },
      'mixed/=3.jpg': { confidences: [0, 0, 0] },
    },
  },
];

async function text(body: Bytes): Promise<string> {
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return new TextDecoder().decode(body);
  let out = '';
  for await (const chunk of body) out += typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk);
  return out;
}

describe('image-level labels round trip (export writers -> import)', () => {
  for (const { task, labels } of CASES) {
    for (const format of ['coco', 'csv'] as const) {
      it(`${task} via ${format}`, async () => {
        const f = await fixture(task, CLASSES);
        const project = (await f.stores.projects.get(f.projectId))!;
        for (const [file, label] of Object.entries(labels)) {
          const id = await f.image(file);
          await annotate(f.stores, { projectId: f.projectId, sampleId: id, version: 0, labelerId: 'ana', requestId: `r-${id}`, ...label });
        }
        // Export (COCO without a class for "none of the classes" leaves that image's label out, by design).
        const files = new Map<string, string>();
        const out = { add: async (p: string, body: Bytes) => void files.set(p, await text(body)) };
        await WRITERS[format]({ stores: f.stores, project, filter: { include: 'labeled' }, counts: emptyCounts(), tick: async () => {} }, out);
        const tree: SourceTree = {
          label: format, files: [...files.keys()], refused: [],
          read: async (p) => new TextEncoder().encode(files.get(p)!), materialize: async () => '/nonexistent',
        };
        const parsed = await readLabelFiles(tree, format as LabelFormat);
        expect(parsed.problems).toEqual([]);

        // A fresh project with the same images.
        await createProject(f.stores, { id: 'fresh', classes: CLASSES, taskType: task }, 'olga');
        for (const file of Object.keys(labels)) {
          const id = imageIdFor(`uploads/fresh/${file}`);
          await f.stores.samples.putImage({ projectId: 'fresh', imageId: id, key: `uploads/fresh/${file}`, etag: 'e', bytes: 1, status: 'ready', width: 640, height: 480, order: file, createdAt: 'c', updatedAt: 'u' });
          await f.stores.samples.putSamplesIfAbsent([{ projectId: 'fresh', sampleId: id, imageId: id, kind: 'image', version: 0, labeledBy: [], order: file, queueKey: file, createdAt: 'c' }]);
        }
        const { report } = await importLabels(f.stores, { projectId: 'fresh', mode: 'labels', items: parsed.items, labelerId: 'olga' });
        expect(report.rows.filter((r) => !r.ok)).toEqual([]);

        for (const [file, label] of Object.entries(labels)) {
          const sample = await f.stores.samples.getSample('fresh', imageIdFor(`uploads/fresh/${file}`));
          const lostInCoco = format === 'coco' && label.confidences.every((c) => c === 0);
          if (lostInCoco) expect(sample?.label, file).toBeUndefined();
          else expect({ confidences: sample?.label?.confidences, ambiguous: sample?.label?.ambiguous }, file).toEqual({ ambiguous: false, ...label });
        }
      });
    }
  }
});
