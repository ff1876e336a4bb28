// After an image is analysed, its embeddings (whole image and each box sample) are appended to the project's
// shard files for the trainer, which reads them in bulk (see models/README.md, "Embedding storage").

import type { IngestDeps } from '../domain/ingest.js';
import type { BlobStore } from '../domain/ports.js';
import { appendEmbeddings } from '../vision/embeddings.js';

export function embeddingSink(blobs: BlobStore, model: string | undefined): IngestDeps['onAnalyzed'] {
  if (!model) return undefined; // no embedder: samples are served in upload order
  return async (_project, image, samples, analysis) => {
    const rows: { sampleId: string; vector: Float32Array }[] = [];
    if (analysis.embedding) rows.push({ sampleId: image.imageId, vector: analysis.embedding });
    for (const sample of samples) {
      if (sample.kind !== 'box') continue;
      const index = Number(sample.sampleId.slice(sample.sampleId.lastIndexOf('-b') + 2)) - 1;
      const vector = analysis.detections?.[index]?.embedding;
      if (vector) rows.push({ sampleId: sample.sampleId, vector });
    }
    if (rows.length) await appendEmbeddings(blobs, image.projectId, model, rows);
  };
}
