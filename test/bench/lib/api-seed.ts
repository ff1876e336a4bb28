// Seeds a project for the API benchmark without running thousands of images through ONNX: the project is created
// through the API (as a user would), then image records, samples and random embeddings are written straight
// through the stores, in the same shape ingest writes them, so serving, presigning and training all see real data.

import { mapBounded } from '../../../functions/domain/concurrency.js';
import type { ImageRecord, Sample } from '../../../functions/domain/model.js';
import type { LocalStack } from '../../../functions/local/stack.js';
import { appendEmbeddings } from '../../../functions/adapters/embeddings/shards.js';
import { syntheticImage } from './synthetic-image.js';

export interface SeedOptions {
  projectId: string;
  classes: string[];
  samples: number;
  /** Embedding model folder the trainer reads (the analyzer's embedder). */
  embedder: string;
  dims: number;
  /** Rows per embedding shard (ingest writes one per image; fewer, larger shards seed faster). */
  shardRows?: number;
  admin: string;
}

export interface SeedResult {
  ms: { project: number; records: number; embeddings: number };
}

const WRITE_CONCURRENCY = 16;

export async function seedProject(stack: LocalStack, opts: SeedOptions): Promise<SeedResult> {
  const t0 = performance.now();
  const res = await fetch(`${stack.url}/api/projects`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-winnow-user': opts.admin },
    body: JSON.stringify({ id: opts.projectId, classes: opts.classes }),
  });
  if (res.status !== 201) throw new Error(`creating the project failed: ${res.status} ${await res.text()}`);
  const t1 = performance.now();

  const images = Array.from({ length: opts.samples }, (_, i) => syntheticImage(opts.projectId, i, { imageId: `bench${String(i).padStart(19, '0')}`, nameDigits: 6 }));
  await mapBounded(images, WRITE_CONCURRENCY, (image) => stack.stores.samples.putImageIfAbsent(image));
  const samples = images.map(wholeImageSample);
  for (let i = 0; i < samples.length; i += 500) await stack.stores.samples.putSamplesIfAbsent(samples.slice(i, i + 500));
  const t2 = performance.now();

  const shardRows = opts.shardRows ?? 500;
  for (let i = 0; i < samples.length; i += shardRows) {
    const rows = samples.slice(i, i + shardRows).map((s) => ({ sampleId: s.sampleId, vector: randomUnitVector(opts.dims) }));
    await appendEmbeddings(stack.stores.blobs, opts.projectId, opts.embedder, rows);
  }
  const t3 = performance.now();
  return { ms: { project: t1 - t0, records: t2 - t1, embeddings: t3 - t2 } };
}

/** The whole-image sample ingest makes for a plain single-label project (ImageNet tags as suggestions). */
function wholeImageSample(image: ImageRecord): Sample {
  const order = `${image.order}#0000`;
  return {
    projectId: image.projectId,
    sampleId: image.imageId,
    imageId: image.imageId,
    kind: 'image',
    version: 0,
    labeledBy: [],
    order,
    queueKey: order,
    suggestions: [
      { classIndex: -1, name: 'daisy', probability: 0.41 },
      { classIndex: -1, name: 'pot', probability: 0.12 },
      { classIndex: -1, name: 'vase', probability: 0.05 },
    ],
    createdAt: image.createdAt,
  };
}

function randomUnitVector(dims: number): Float32Array {
  const v = new Float32Array(dims);
  let norm = 0;
  for (let d = 0; d < dims; d++) {
    // Sum of uniforms: near-Gaussian and cheap; the direction is what the trainer uses.
    const x = Math.random() + Math.random() + Math.random() - 1.5;
    v[d] = x;
    norm += x * x;
  }
  const scale = 1 / Math.sqrt(norm);
  for (let d = 0; d < dims; d++) v[d] *= scale;
  return v;
}
