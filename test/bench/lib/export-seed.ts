// Synthetic labeled project for the export benchmark, written straight into the tables with BatchWriteItem (the
// item shapes the adapters read: image sk `i#<id>`, sample sk `s#<id>`) and embedding shards into the bucket in
// the trainer's format (compacted shards of fp16 rows). Conditional puts one by one would take minutes at 100k.

import { randomBytes } from 'node:crypto';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { AwsStores } from '../../../functions/adapters/aws/clients.js';
import { imageSk, sampleSk } from '../../../functions/adapters/keys.js';
import { mapBounded } from '../../../functions/domain/concurrency.js';
import type { ImageRecord, Project, Sample } from '../../../functions/domain/model.js';
import { embeddingsPrefix, encodeShard, SHARD_CONTENT_TYPE } from '../../../functions/adapters/embeddings/shards.js';

export interface SeedOptions {
  projectId: string;
  /** Samples in all: each image has one image sample and `boxesPerImage` box samples. */
  samples: number;
  boxesPerImage: number;
  classes: string[];
  dims: number;
  model: string;
  /** Rows per embedding shard (the compactor's output size). */
  shardRows: number;
  samplesTable: string;
  log: (line: string) => void;
}

const AT = '2025-03-01T10:00:00.000Z';

export async function seedExportProject(stores: AwsStores, opts: SeedOptions): Promise<{ images: number; samples: number }> {
  const project: Project = {
    id: opts.projectId,
    name: 'Export benchmark',
    classes: opts.classes,
    taskType: 'single-label',
    confidenceLevels: [0, 0.25, 0.5, 0.75, 1],
    allowAmbiguous: true,
    strategy: 'upload-order',
    overlap: 1,
    detection: { enabled: true },
    createdAt: AT,
    createdBy: 'bench',
    version: 1,
  };
  await stores.projects.create(project);
  const perImage = 1 + opts.boxesPerImage;
  const images = Math.ceil(opts.samples / perImage);
  const ids: string[] = [];
  const items: Record<string, unknown>[] = [];
  const flush = async (force = false) => {
    if (items.length < 2500 && !force) return;
    const batch = items.splice(0, items.length);
    const chunks = Array.from({ length: Math.ceil(batch.length / 25) }, (_, i) => batch.slice(i * 25, i * 25 + 25));
    await mapBounded(chunks, 8, async (chunk) => {
      let requests = chunk.map((Item) => ({ PutRequest: { Item } }));
      while (requests.length) {
        const out = await stores.clients.doc.send(new BatchWriteCommand({ RequestItems: { [opts.samplesTable]: requests } }));
        requests = (out.UnprocessedItems?.[opts.samplesTable] ?? []) as typeof requests;
      }
    });
  };
  let samples = 0;
  for (let i = 0; i < images && samples < opts.samples; i++) {
    const imageId = randomBytes(12).toString('hex');
    const file = `class-${i % opts.classes.length}/photo_${String(i).padStart(6, '0')}.jpg`;
    const image: ImageRecord = {
      projectId: project.id, imageId, key: `uploads/${project.id}/${file}`, etag: 'e', bytes: 150_000, status: 'ready',
      width: 1024, height: 768, contentType: 'image/jpeg', order: `${AT}|${file}`, createdAt: AT, updatedAt: AT,
    };
    items.push({ ...image, sk: imageSk(imageId) });
    for (let b = 0; b < perImage && samples < opts.samples; b++, samples++) {
      const sampleId = b === 0 ? imageId : `${imageId}-b${b}`;
      const cls = (i + b) % opts.classes.length;
      const confidences = opts.classes.map((_, c) => (c === cls ? 1 : 0));
      const sample: Sample = {
        projectId: project.id, sampleId, imageId, kind: b === 0 ? 'image' : 'box', version: 1, labeledBy: ['ann'],
        order: `${image.order}#${String(b).padStart(4, '0')}`, createdAt: AT,
        label: { confidences, ambiguous: i % 50 === 0, labelerId: i % 3 ? 'ann' : 'bob', at: AT },
        ...(b === 0 ? {} : { box: [10 + b * 40, 20 + b * 30, 200 + b * 40, 220 + b * 30] as [number, number, number, number] }),
      };
      items.push({ ...sample, sk: sampleSk(sampleId) });
      ids.push(sampleId);
    }
    await flush();
    if (i % 5000 === 0) opts.log(`  seeded ${samples} samples`);
  }
  await flush(true);
  await writeShards(stores, opts, ids);
  return { images, samples };
}

/** Random unit-ish fp16 vectors (|v| < 1), written as compacted shards in sample-creation order. */
async function writeShards(stores: AwsStores, opts: SeedOptions, ids: string[]): Promise<void> {
  for (let from = 0, n = 0; from < ids.length; from += opts.shardRows, n++) {
    const sampleIds = ids.slice(from, from + opts.shardRows);
    const vectors = new Uint16Array(sampleIds.length * opts.dims);
    const noise = randomBytes(vectors.length);
    // Sign bit random, exponent 0x0c-0x0d (values 2^-3..2^-1), mantissa random: plausible embedding magnitudes.
    for (let k = 0; k < vectors.length; k++) vectors[k] = ((noise[k] & 1) << 15) | ((12 + ((noise[k] >> 1) & 1)) << 10) | ((noise[k] * 4) & 0x3ff);
    const order = `${String(1_700_000_000_000 + n).padStart(13, '0')}-1-${String(n).padStart(4, '0')}`;
    const shard = { model: opts.model, dims: opts.dims, sampleIds, vectors, order, replaces: [], createdAt: AT };
    await stores.blobs.put(`${embeddingsPrefix(opts.projectId, opts.model)}${order}.emb`, encodeShard(shard), SHARD_CONTENT_TYPE);
    opts.log(`  embedding shard ${n + 1}: ${sampleIds.length} rows`);
  }
}
