// After an image is analysed, its embeddings (whole image and each box sample) are appended to the project's
// shard files for the trainer, which reads them in bulk (see models/README.md, "Embedding storage").
//
// Group commit: while one shard write is in flight, the images that finish meanwhile wait and then go out together
// in the next shard, and images whose analyses were handed back together (./finish-together.ts) share one shard
// from the start. Under load each PUT carries several images (fewer storage calls for ingest, fewer small shards for
// the compactor). Each image is marked ready only after the shard holding its rows is stored.

import { GroupCommit } from '../adapters/group-commit.js';
import type { IngestDeps } from '../domain/ingest.js';
import type { BlobStore } from '../domain/ports.js';
import { appendEmbeddings, type EmbeddingRow } from '../adapters/embeddings/shards.js';

export function embeddingSink(blobs: BlobStore, model: string | undefined): IngestDeps['onAnalyzed'] {
  if (!model) return undefined; // no embedder: samples are served in upload order
  const writers = new Map<string, GroupCommit<EmbeddingRow[]>>();
  return async (_project, image, samples, analysis) => {
    const rows: EmbeddingRow[] = [];
    if (analysis.embedding) rows.push({ sampleId: image.imageId, vector: analysis.embedding });
    for (const sample of samples) {
      if (sample.kind !== 'box') continue;
      const index = Number(sample.sampleId.slice(sample.sampleId.lastIndexOf('-b') + 2)) - 1;
      const vector = analysis.detections?.[index]?.embedding;
      if (vector) rows.push({ sampleId: sample.sampleId, vector });
    }
    if (rows.length === 0) return;
    // A project on a registered embedder gets its rows under that model's name (the trainer reads the project's).
    const by = analysis.embeddingModel ?? model;
    const writerKey = `${image.projectId}/${by}`;
    let writer = writers.get(writerKey);
    if (!writer) {
      writer = new GroupCommit((groups) => appendEmbeddings(blobs, image.projectId, by, groups.flat()).then(() => undefined));
      writers.set(writerKey, writer);
    }
    await writer.add(rows);
  };
}
