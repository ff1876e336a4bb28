// CSV export of the current labels: one row per labeled sample, one confidence column per class.
// Box coordinates are always x1,y1,x2,y2 in original-image pixels, and the header says so (origin 004 wrote
// x,y,w,h under an xmin,ymin,xmax,ymax header).

import { topClass } from './labels.js';
import type { ImageRecord } from './model.js';
import type { Stores } from './ports.js';
import { allSamples } from './progress.js';
import { getProject } from './projects.js';

export function csvField(value: string | number | boolean | undefined): string {
  if (value === undefined) return '';
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export async function* exportCsv(stores: Stores, projectId: string): AsyncGenerator<string> {
  const project = await getProject(stores, projectId);
  const images = new Map<string, ImageRecord>();
  let cursor: string | undefined;
  do {
    const page = await stores.samples.listImages(projectId, { cursor, limit: 1000 });
    for (const image of page.items) images.set(image.imageId, image);
    cursor = page.cursor;
  } while (cursor);

  const prefix = `uploads/${projectId}/`;
  const header = [
    'file', 'sample_id', 'kind', 'x1', 'y1', 'x2', 'y2', 'label', 'ambiguous',
    ...project.classes.map((c) => `confidence_${c}`), 'boxes_json', 'labeler', 'labeled_at', 'version',
  ];
  yield header.map(csvField).join(',') + '\n';
  for await (const sample of allSamples(stores, projectId)) {
    const label = sample.label;
    if (!label) continue;
    const image = images.get(sample.imageId);
    const file = image ? image.key.slice(image.key.startsWith(prefix) ? prefix.length : 0) : sample.imageId;
    const top = topClass(label.confidences);
    const box = sample.box ?? [undefined, undefined, undefined, undefined];
    const row = [
      file, sample.sampleId, sample.kind, ...box,
      top >= 0 ? project.classes[top] : '', label.ambiguous,
      ...label.confidences,
      label.boxes ? JSON.stringify(label.boxes.map((b) => ({ box: b.box, class: project.classes[b.classIndex] }))) : '',
      label.labelerId, label.at, sample.version,
    ];
    yield row.map(csvField).join(',') + '\n';
  }
}
