// The project's labels as a stream of LabeledImage, one image at a time, in image-id order, never the whole
// project in memory. Images and samples share one table partition and sort the same way (image sk `i#<imageId>`,
// sample sk `s#<sampleId>`, every sample id starts with its 24-hex image id), so walking both listings side by side
// (a merge join) meets each image together with its samples.

import { topClass } from '../../label-validation.js';
import type { Annotation, ImageRecord, LabelHead, Project, Sample } from '../../model.js';
import type { Stores } from '../../ports.js';
import { getProject } from '../../projects.js';
import type { ExportFilter, LabeledBox, LabeledImage } from '../model.js';

const PAGE = 1000;

/** A sample of an exported image that has no label in the export (listed only with `include: 'all'`). */
export interface UnlabeledSample {
  sampleId: string;
  kind: 'image' | 'box';
  box?: [number, number, number, number];
}

/** What the exporters read: the image, its labels, and (include 'all') its unlabeled samples. */
export interface ExportImage extends LabeledImage {
  unlabeled: UnlabeledSample[];
}

export async function* labeledImages(
  stores: Stores,
  projectOrId: Project | string,
  filter: ExportFilter,
): AsyncGenerator<ExportImage> {
  const project = typeof projectOrId === 'string' ? await getProject(stores, projectOrId) : projectOrId;
  const samples = pushBack(allPages((cursor) => stores.samples.listSamples(project.id, { cursor, limit: PAGE })));
  for await (const image of allPages((cursor) => stores.samples.listImages(project.id, { cursor, limit: PAGE }))) {
    const own: Sample[] = [];
    for (;;) {
      const next = await samples.next();
      if (next === undefined) break;
      if (next.imageId < image.imageId) continue; // a sample whose image record is gone: nothing to export it with
      if (next.imageId > image.imageId) {
        samples.unread(next);
        break;
      }
      own.push(next);
    }
    // Only ready images have the upright size every box refers to.
    if (image.status !== 'ready' || !image.width || !image.height) continue;
    const exported = await toExportImage(stores, project, image, own, filter);
    if (exported) yield exported;
  }
}

async function toExportImage(
  stores: Stores,
  project: Project,
  image: ImageRecord,
  samples: Sample[],
  filter: ExportFilter,
): Promise<ExportImage | undefined> {
  const out: ExportImage = {
    imageId: image.imageId,
    file: uploadName(project.id, image.key),
    key: image.key,
    width: image.width!,
    height: image.height!,
    boxes: [],
    unlabeled: [],
  };
  for (const sample of samples) {
    const label = await labelFor(stores, project, sample, filter);
    if (sample.kind === 'image') {
      if (label) {
        out.label = { confidences: label.confidences, ambiguous: label.ambiguous, labelerId: label.labelerId, at: label.at, sampleId: sample.sampleId };
        for (const b of label.boxes ?? []) {
          out.boxes.push(labeledBox(b.box, b.classIndex, label, sample.sampleId, b.score));
        }
      } else out.unlabeled.push({ sampleId: sample.sampleId, kind: 'image' });
      continue;
    }
    const top = label ? topClass(label.confidences) : -1;
    // A box sample labeled with no class at all says "this detection is not any of the classes": not an object.
    if (label && top >= 0 && sample.box) {
      out.boxes.push({ ...labeledBox(sample.box, top, label, sample.sampleId), confidences: label.confidences });
    } else if (!label && sample.box) out.unlabeled.push({ sampleId: sample.sampleId, kind: 'box', box: sample.box });
  }
  const labeled = out.label !== undefined || out.boxes.length > 0;
  if (filter.include === 'labeled' && !labeled) return undefined;
  if (filter.include === 'labeled') out.unlabeled = [];
  return out;
}

function labeledBox(box: LabeledBox['box'], classIndex: number, label: LabelHead, sampleId: string, score?: number): LabeledBox {
  return {
    box: [box[0], box[1], box[2], box[3]],
    classIndex,
    ambiguous: label.ambiguous,
    labelerId: label.labelerId,
    at: label.at,
    sampleId,
    ...(score !== undefined ? { score } : {}),
  };
}

/**
 * The label this export shows for a sample, after the labeler and ambiguity filters. Normally the head; with
 * overlap > 1 another labeler may hold the head, so that labeler's own label is replayed from the history.
 */
async function labelFor(stores: Stores, project: Project, sample: Sample, filter: ExportFilter): Promise<LabelHead | undefined> {
  let label = sample.label;
  if (label && filter.labelerId && label.labelerId !== filter.labelerId) {
    label = sample.labeledBy.includes(filter.labelerId)
      ? labelOfLabeler(await stores.annotations.listForSample(project.id, sample.sampleId), filter.labelerId)
      : undefined;
  }
  if (label && filter.excludeAmbiguous && label.ambiguous) return undefined;
  if (label && label.source === 'model' && !filter.includeModelLabels) return undefined;
  return label;
}

/** One labeler's label in effect after replaying a sample's history (an undo removes the label it undoes). */
export function labelOfLabeler(history: Annotation[], labelerId: string): LabelHead | undefined {
  const undone = new Set(history.filter((a) => a.kind === 'undo' && a.undoes !== undefined).map((a) => a.undoes));
  const mine = history
    .filter((a) => a.kind === 'label' && a.labelerId === labelerId && !undone.has(a.version))
    .sort((a, b) => a.version - b.version);
  const last = mine[mine.length - 1];
  if (!last) return undefined;
  return { confidences: last.confidences, ambiguous: last.ambiguous, labelerId, at: last.at, ...(last.boxes ? { boxes: last.boxes } : {}) };
}

/** `uploads/<project>/a/b.jpg` -> `a/b.jpg`. */
export function uploadName(projectId: string, key: string): string {
  const prefix = `uploads/${projectId}/`;
  return key.startsWith(prefix) ? key.slice(prefix.length) : key;
}

async function* allPages<T>(page: (cursor?: string) => Promise<{ items: T[]; cursor?: string }>): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const next = await page(cursor);
    yield* next.items;
    cursor = next.cursor;
  } while (cursor);
}

/** An async iterator with one item of look-ahead that can be put back. */
function pushBack<T>(source: AsyncIterator<T>) {
  let held: T | undefined;
  let done = false;
  return {
    async next(): Promise<T | undefined> {
      if (held !== undefined) {
        const item = held;
        held = undefined;
        return item;
      }
      if (done) return undefined;
      const r = await source.next();
      if (r.done) {
        done = true;
        return undefined;
      }
      return r.value;
    },
    unread(item: T) {
      held = item;
    },
  };
}
