// Embeddings: the vectors the trainer uses, for training elsewhere. Layout of the archive:
//   features.npy       float32, shape (n, d), C order: one row per exported sample that has a vector
//   labels.csv         the CSV export's columns (csv.ts) for those samples, `feat_idx` = row in features.npy
//   embeddings.json    { model, dims, rows, dtype, project }
//   images/<file>      the upright originals (unless images are left out)
//
// Rows are in storage order (the order of the embedding shards) and labels.csv is in image order, tied together
// by feat_idx, the origin format's way. That lets both stream: shards are read one block at a time, never the
// whole matrix. What is held: sample id -> storage position for the project's samples, and the sorted positions of
// the exported rows (8 bytes each). Box-review boxes have no vector of their own (the image sample's row covers
// the image), so labels.csv lists image and box samples only.

import { badRequest, WinnowError } from '../../errors.js';
import type { ExportContext } from './context.js';
import { exportImages } from './context.js';
import { copyImages } from './archive-images.js';
import { csvHeader, csvLine, csvRows, countImage, type CsvRow } from './csv.js';
import type { ExportImage } from './images.js';
import { ExportNamer } from './naming.js';
import { npyHeader } from './npy.js';
import type { EmbeddingShardRef, ExportEntries } from './ports.js';

/** Rows read from a shard at once: 512 x 1280 = 1.3 MB of fp16, 2.6 MB as float32. */
const BLOCK_ROWS = 512;

interface Located {
  shards: { ref: EmbeddingShardRef; start: number }[];
  /** Sample id -> position in storage order (the last shard holding a sample wins, as for the trainer). */
  position: Map<string, number>;
  dims: number;
}

export async function writeEmbeddings(ctx: ExportContext, out: ExportEntries, model: string): Promise<void> {
  if (!ctx.embeddings) throw new WinnowError('internal', 'embeddings export without an embedding source');
  const located = await locate(ctx, model);
  const rows = await exportedRows(ctx, located);
  ctx.counts.rows = rows.length;
  await out.add('features.npy', matrixBytes(located, rows), { store: true });
  const names = new Map<string, { name: string; key: string }>();
  await out.add('labels.csv', indexCsv(ctx, located, rows, names));
  await out.add(
    'embeddings.json',
    JSON.stringify({ model, dims: located.dims, rows: rows.length, dtype: 'float32', project: ctx.project.id }, null, 2) + '\n',
  );
  await copyImages(ctx, out, [...names].map(([imageId, { name, key }]) => ({ path: `images/${name}`, imageId, key })));
}

async function locate(ctx: ExportContext, model: string): Promise<Located> {
  const located: Located = { shards: [], position: new Map(), dims: 0 };
  let total = 0;
  for await (const ref of ctx.embeddings!.shards(ctx.project.id, model)) {
    if (located.dims && ref.dims !== located.dims) {
      throw new WinnowError('internal', `embedding shards of model "${model}" disagree on dimensions (${located.dims} and ${ref.dims})`);
    }
    located.dims = ref.dims;
    located.shards.push({ ref, start: total });
    ref.sampleIds.forEach((id, r) => located.position.set(id, total + r));
    total += ref.sampleIds.length;
    await ctx.tick();
  }
  if (total === 0) {
    throw badRequest(`this project has no embeddings from model "${model}" yet (are its images ingested, with the embedder model installed?)`, {
      field: 'format',
    });
  }
  return located;
}

/** The samples an image contributes to the matrix: its image sample and box samples that have a vector. */
function embeddedRows(ctx: ExportContext, image: ExportImage, located: Located): { row: CsvRow; position: number }[] {
  return csvRows(ctx.project, image).flatMap((row) => {
    // Box-review boxes name the image sample; its row is already there.
    if (row.kind === 'box' && row.sampleId === image.imageId) return [];
    const position = located.position.get(row.sampleId);
    return position === undefined ? [] : [{ row, position }];
  });
}

/** Storage positions of every exported row, ascending (= row order of features.npy). */
async function exportedRows(ctx: ExportContext, located: Located): Promise<Float64Array> {
  let rows = new Float64Array(1024);
  let n = 0;
  for await (const image of exportImages(ctx)) {
    for (const { position } of embeddedRows(ctx, image, located)) {
      if (n === rows.length) {
        const grown = new Float64Array(rows.length * 2);
        grown.set(rows);
        rows = grown;
      }
      rows[n++] = position;
    }
  }
  return rows.slice(0, n).sort();
}

async function* matrixBytes(located: Located, rows: Float64Array): AsyncGenerator<Uint8Array> {
  yield npyHeader(rows.length, located.dims);
  const d = located.dims;
  let next = 0; // index into rows
  for (const { ref, start } of located.shards) {
    const limit = start + ref.sampleIds.length;
    while (next < rows.length && rows[next] < limit) {
      // One read from the next wanted row to the last wanted row within a block: sparse rows cost no extra bytes
      // past the last one needed.
      const from = rows[next] - start;
      const blockEnd = start + Math.min(ref.sampleIds.length, from + BLOCK_ROWS);
      let last = next;
      while (last + 1 < rows.length && rows[last + 1] < blockEnd) last++;
      const block = await ref.read(from, rows[last] - start + 1);
      if (last - next + 1 === rows[last] - start + 1 - from) {
        // Every row of the block is wanted (the usual case): no copy.
        next = last + 1;
        yield new Uint8Array(block.buffer, block.byteOffset, block.byteLength);
        continue;
      }
      const picked = new Float32Array((last - next + 1) * d);
      for (let k = 0; next <= last; next++, k++) {
        const r = rows[next] - start - from;
        picked.set(block.subarray(r * d, (r + 1) * d), k * d);
      }
      yield new Uint8Array(picked.buffer, picked.byteOffset, picked.byteLength);
    }
  }
}

async function* indexCsv(
  ctx: ExportContext,
  located: Located,
  rows: Float64Array,
  names: Map<string, { name: string; key: string }>,
): AsyncGenerator<string> {
  yield csvHeader(ctx.project);
  const namer = ctx.images ? new ExportNamer() : undefined;
  for await (const image of exportImages(ctx)) {
    // A sample labeled between the passes has no row in the matrix: it is left out here too.
    const lines = embeddedRows(ctx, image, located).flatMap(({ row, position }) => {
      const featIdx = indexOf(rows, position);
      return featIdx < 0 ? [] : [{ row, featIdx }];
    });
    if (lines.length === 0) continue;
    let filename = image.file;
    if (namer) {
      const name = namer.name(image);
      names.set(image.imageId, { name, key: image.key });
      filename = `images/${name}`;
    }
    countImage(ctx, image);
    yield lines.map(({ row, featIdx }) => csvLine(ctx.project, filename, row, featIdx)).join('');
  }
}

/** Binary search in the sorted positions; -1 when absent. */
function indexOf(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] === value) return mid;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
