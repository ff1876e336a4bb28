// Hand-made projects on the in-memory stores for the export tests: images with known sizes and labels written as
// the labeling API leaves them (sample heads), and an ExportEntries that keeps what a writer wrote.

import { createMemoryStores, type MemoryStores } from '../../functions/adapters/memory/index.js';
import { emptyCounts, type ExportContext } from '../../functions/domain/interchange/export/context.js';
import type { Bytes, ExportEntries, ExportObjects, ImageFiles } from '../../functions/domain/interchange/export/ports.js';
import { byteChunks } from '../../functions/domain/interchange/export/bytes.js';
import type { ExportFilter } from '../../functions/domain/interchange/model.js';
import type { Box, BoxLabel, LabelHead, Project, Sample, TaskType } from '../../functions/domain/model.js';
import { ManualClock } from '../support/fixtures.js';

export const AT = '2025-03-01T10:00:00.000Z';

/** Image ids in the order the test wants them exported (24 hex characters, like the real ones). */
export const imageId = (n: number) => n.toString(16).padStart(24, '0');

export interface LabelSpec {
  confidences?: number[];
  classIndex?: number;
  ambiguous?: boolean;
  labelerId?: string;
  at?: string;
  boxes?: { box: Box; classIndex: number }[];
}

export interface ImageSpec {
  n: number;
  file: string;
  width?: number;
  height?: number;
  status?: 'ready' | 'pending' | 'failed';
  label?: LabelSpec;
  /** Box samples (detections), each maybe labeled. */
  boxSamples?: { box: Box; label?: LabelSpec }[];
}

export interface ExportFixture {
  stores: MemoryStores;
  project: Project;
  add(spec: ImageSpec): Promise<string>;
  ctx(filter?: Partial<ExportFilter>, extra?: Partial<ExportContext>): ExportContext;
}

export async function exportFixture(taskType: TaskType, classes: string[], over: Partial<Project> = {}): Promise<ExportFixture> {
  const clock = new ManualClock(Date.parse('2025-03-02T08:00:00.000Z'));
  const stores = createMemoryStores(clock);
  const project: Project = {
    id: 'proj',
    name: 'Test project',
    classes,
    taskType,
    confidenceLevels: [0, 0.25, 0.5, 0.75, 1],
    allowAmbiguous: true,
    strategy: 'upload-order',
    overlap: 1,
    createdAt: AT,
    createdBy: 'olga',
    version: 1,
    ...over,
  };
  await stores.projects.create(project);
  return {
    stores,
    project,
    async add(spec) {
      const id = imageId(spec.n);
      const key = `uploads/${project.id}/${spec.file}`;
      await stores.samples.putImage({
        projectId: project.id,
        imageId: id,
        key,
        etag: 'e',
        bytes: 1,
        status: spec.status ?? 'ready',
        width: spec.width ?? 200,
        height: spec.height ?? 100,
        order: `${AT}|${spec.file}`,
        createdAt: AT,
        updatedAt: AT,
      });
      const samples: Sample[] = [sample(project, id, id, 'image', spec.label)];
      (spec.boxSamples ?? []).forEach((b, i) => samples.push({ ...sample(project, id, `${id}-b${i + 1}`, 'box', b.label), box: b.box }));
      await stores.samples.putSamplesIfAbsent(samples);
      return id;
    },
    ctx(filter = {}, extra = {}) {
      return { stores, project, filter: { include: 'labeled', ...filter }, counts: emptyCounts(), tick: async () => undefined, ...extra };
    },
  };
}

function sample(project: Project, imageId: string, sampleId: string, kind: 'image' | 'box', spec?: LabelSpec): Sample {
  const s: Sample = { projectId: project.id, sampleId, imageId, kind, version: 0, labeledBy: [], order: sampleId, createdAt: AT };
  if (spec) {
    const label = labelHead(project, spec);
    s.label = label;
    s.labeledBy = [label.labelerId];
    s.version = 1;
  }
  return s;
}

export function labelHead(project: Project, spec: LabelSpec): LabelHead {
  const confidences = spec.confidences ?? project.classes.map((_, i) => (i === spec.classIndex ? 1 : 0));
  const boxes: BoxLabel[] | undefined = spec.boxes?.map((b) => ({ box: b.box, classIndex: b.classIndex, source: 'labeler' }));
  return { confidences, ambiguous: spec.ambiguous ?? false, labelerId: spec.labelerId ?? 'ann', at: spec.at ?? AT, ...(boxes ? { boxes } : {}) };
}

/** ExportEntries that keeps every file, in order, as bytes. */
export function collect(): ExportEntries & { files: Map<string, Uint8Array>; text(path: string): string; stored: Set<string> } {
  const files = new Map<string, Uint8Array>();
  const stored = new Set<string>();
  return {
    files,
    stored,
    async add(path: string, body: Bytes, opts?: { store?: boolean }) {
      if (files.has(path)) throw new Error(`duplicate entry ${path}`);
      const parts: Uint8Array[] = [];
      for await (const chunk of byteChunks(body)) parts.push(chunk);
      files.set(path, Buffer.concat(parts));
      if (opts?.store) stored.add(path);
    },
    text(path: string) {
      const bytes = files.get(path);
      if (!bytes) throw new Error(`no entry ${path}; entries: ${[...files.keys()].join(', ')}`);
      return Buffer.from(bytes).toString('utf8');
    },
  };
}

/** Originals served from the stores as they are (no rotation): the sharp adapter has its own test. */
export function plainImageFiles(stores: MemoryStores): ImageFiles {
  return {
    async open(image) {
      const object = await stores.blobs.get(image.key);
      return { body: object?.body ?? new Uint8Array(), rotated: false };
    },
  };
}

/** Export files kept in the in-memory bucket: written on close, downloaded through its `memory://` links. */
export function memoryExportObjects(blobs: MemoryStores['blobs']): ExportObjects & { disposition: Map<string, string> } {
  const disposition = new Map<string, string>();
  return {
    disposition,
    create(key, contentType) {
      const parts: Uint8Array[] = [];
      return {
        write: async (chunk) => void parts.push(chunk.slice()),
        close: async () => void (await blobs.put(key, Buffer.concat(parts), contentType)),
        abort: async () => undefined,
      };
    },
    async presignDownload(key, fileName, ttl) {
      disposition.set(key, fileName);
      return blobs.presignGet(key, ttl);
    },
  };
}
