// Ingest's embedding writes under load: images that finish while a shard is being stored go out together in the
// next shard (fewer objects for the trainer to list and fetch), and no image is reported done before the shard
// holding its rows is stored.

import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../../functions/adapters/memory/blobs.js';
import type { ImageRecord, Project, Sample } from '../../functions/domain/model.js';
import { systemClock, type ImageAnalysis } from '../../functions/domain/ports.js';
import { embeddingSink } from '../../functions/ingest/embedding-sink.js';
import { EmbeddingReader } from '../../functions/adapters/embeddings/reader.js';
import { embeddingsPrefix, listShards } from '../../functions/adapters/embeddings/shards.js';

const MODEL = 'mobilenetv2-features';
const project = { id: 'garden' } as Project;
const image = (n: number) => ({ projectId: 'garden', imageId: `img${n}` }) as ImageRecord;
const wholeSample = (n: number) => [{ sampleId: `img${n}`, kind: 'image' }] as Sample[];
const analysis = (n: number) => ({ embedding: new Float32Array(8).fill(n) }) as unknown as ImageAnalysis;

/** A bucket whose writes wait until released, to hold a shard write "in flight". */
class SlowBlobs extends MemoryBlobStore {
  held: (() => void)[] = [];
  hold = true;
  constructor() {
    super(systemClock);
  }
  override async put(key: string, body: Uint8Array, contentType: string) {
    if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
    return super.put(key, body, contentType);
  }
  release() {
    for (const go of this.held.splice(0)) go();
  }
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('embedding sink', () => {
  it('groups images that finish during a shard write into the next shard, and reports each one only once stored', async () => {
    const blobs = new SlowBlobs();
    const sink = embeddingSink(blobs, MODEL)!;
    const done: string[] = [];
    const write = (n: number) => sink(project, image(n), wholeSample(n), analysis(n)).then(() => done.push(`img${n}`));

    const first = write(1);
    await tick();
    const later = [write(2), write(3), write(4)];
    await tick();
    expect(done).toEqual([]); // the first shard is still being written

    blobs.release();
    await first;
    expect(done).toEqual(['img1']);
    await tick();
    expect(done).toEqual(['img1']); // 2-4 wait for their own shard
    blobs.hold = false;
    blobs.release();
    await Promise.all(later);

    const shards = await listShards(blobs, embeddingsPrefix('garden', MODEL));
    expect(shards).toHaveLength(2);
    const matrix = await new EmbeddingReader(blobs, 'garden', MODEL).load();
    expect([...matrix.sampleIds].sort()).toEqual(['img1', 'img2', 'img3', 'img4']);
  });

  it('a failed shard write fails the images in it, and their retry stores them', async () => {
    const blobs = new MemoryBlobStore(systemClock);
    const put = blobs.put.bind(blobs);
    let fail = true;
    blobs.put = async (key, body, type) => {
      if (fail) throw new Error('connection reset');
      return put(key, body, type);
    };
    const sink = embeddingSink(blobs, MODEL)!;
    await expect(sink(project, image(1), wholeSample(1), analysis(1))).rejects.toThrow('connection reset');
    fail = false;
    await sink(project, image(1), wholeSample(1), analysis(1));
    expect((await new EmbeddingReader(blobs, 'garden', MODEL).load()).sampleIds).toEqual(['img1']);
  });
});
