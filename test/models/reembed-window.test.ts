// A photo uploaded right after a project switched embedders. Ingest reads projects through a cache of a few seconds
// (functions/ingest/recent-projects.ts), so it analyses that photo with the old embedder, whose embeddings the
// re-embed job has just deleted. The photo must still end up with an embedding of the project's current embedder,
// or the trainer never ranks it. The stores' clock stands still here, so ingest's cached project never expires: the
// upload is inside the window, deterministically. Real ONNX models (the shipped embedder, a generated 64-d one),
// the real ingest handler and re-embed job, on the in-memory stores.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { afterAnalysis } from '../../functions/adapters/aws/services.js';
import { EmbeddingReader } from '../../functions/adapters/embeddings/reader.js';
import { rankingRetrainPorts } from '../../functions/adapters/ranking-codec.js';
import { imageIdFor } from '../../functions/domain/ingest.js';
import { MODEL_LAYOUT, type RegisteredModel } from '../../functions/domain/models.js';
import { createProject } from '../../functions/domain/projects.js';
import { retrainProject } from '../../functions/domain/retrain.js';
import { createIngestHandler } from '../../functions/ingest/handler.js';
import { createImageAnalyzer } from '../../functions/vision/analyzer.js';
import { reembedIdle, startReembed } from '../../functions/vision/reembed.js';
import { ModelRegistry, registryAnalyzer } from '../../functions/vision/registry.js';
import { ManualClock } from '../support/fixtures.js';
import { FLOWERS, MODELS } from '../support/paths.js';
import { tempDir } from '../support/stack.js';
import { tinyEmbedder } from './onnx-builder.js';

const SIDE = 32;
const DIMS = 64;
const BEFORE = ['daisy/100080576_f52e8ee070_n.jpg', 'roses/10090824183_d02c613f10_m.jpg', 'tulips/113902743_8f537f769b_n.jpg'];
const AFTER = 'dandelion/13946048982_4e6ec56987.jpg';

/** Registers the generated embedder as the registration route stores it (file by sha256, record by name). */
async function registerTiny(blobs: ReturnType<typeof createMemoryStores>['blobs']): Promise<RegisteredModel> {
  const file = tinyEmbedder(DIMS, SIDE);
  const sha256 = createHash('sha256').update(file).digest('hex');
  await blobs.put(MODEL_LAYOUT.file(sha256), file, 'application/octet-stream');
  const record: RegisteredModel = {
    name: 'tiny64',
    role: 'embedder',
    sha256,
    bytes: file.byteLength,
    manifest: {
      name: 'tiny64', description: 'generated for a test', role: 'embedder', file: `${sha256}.onnx`, sha256, bytes: file.byteLength, license: 'test', source: {},
      input: { name: 'image', shape: ['batch', 3, SIDE, SIDE], layout: 'NCHW', dtype: 'float32' },
      preprocess: { resize: 'shorter-side-then-center-crop', resizeTo: SIDE, crop: SIDE, kernel: 'linear', channels: 'RGB', scale: '1/255', mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
      outputs: [{ name: 'embedding', decode: 'embedding', dims: DIMS }],
      maxBatch: 8,
    },
    trial: { role: 'embedder', items: [], msPerImage: 1, source: { synthetic: true } },
    registeredAt: '2026-12-06T10:00:00Z',
    registeredBy: 'owner',
  };
  await blobs.put(MODEL_LAYOUT.record(record.name), new TextEncoder().encode(JSON.stringify(record)), 'application/json');
  return record;
}

describe('an upload inside ingest project cache window after an embedder switch', () => {
  const clock = new ManualClock();
  const stores = createMemoryStores(clock);
  afterAll(() => reembedIdle('flowers'));

  it('is embedded by the new embedder, and the trainer ranks it with the others', async () => {
    const registry = new ModelRegistry(stores.blobs, await tempDir('reembed-window'));
    const base = await createImageAnalyzer({ modelDir: MODELS, tagger: null, detector: null });
    const analyzer = registryAnalyzer(base, registry);
    const defaultEmbedder = base.status().embedder!;
    const handler = createIngestHandler({ stores, analyzer, onAnalyzed: afterAnalysis(stores, defaultEmbedder, () => undefined) }, { log: () => undefined });
    const upload = async (name: string) => {
      const key = `uploads/flowers/${path.basename(name)}`;
      await stores.blobs.put(key, await readFile(path.join(FLOWERS, name)), 'image/jpeg');
      const [result] = await handler.handleRecords([{ key, eventName: 'ObjectCreated:Put' }]);
      expect(result.outcome?.status, result.error).toBe('ready');
      return imageIdFor(key);
    };

    await createProject(stores, { id: 'flowers', classes: ['daisy', 'other'] }, 'owner');
    const before = [];
    for (const name of BEFORE) before.push(await upload(name)); // ingest now holds the project (no embedder named) in its cache
    expect((await new EmbeddingReader(stores.blobs, 'flowers', defaultEmbedder).load()).rows).toBe(BEFORE.length);

    const tiny = await registerTiny(stores.blobs);
    await startReembed({ stores, registry }, 'flowers', tiny, 'owner');
    await reembedIdle('flowers');
    expect((await stores.projects.get('flowers'))?.embedding?.model).toBe('tiny64');

    // The clock has not moved: ingest still has the project from before the switch.
    const late = await upload(AFTER);
    const matrix = await new EmbeddingReader(stores.blobs, 'flowers', 'tiny64').load();
    expect(matrix.dims).toBe(DIMS);
    expect([...matrix.sampleIds].sort()).toEqual([...before, late].sort());
    // The old embedder's rows that ingest wrote first are taken out again: its folder holds none of the project.
    expect((await new EmbeddingReader(stores.blobs, 'flowers', defaultEmbedder).load()).rows).toBe(0);
    // And the trainer ranks it with the others, on the new embeddings.
    const project = (await stores.projects.get('flowers'))!;
    await retrainProject(stores, rankingRetrainPorts, project, {}, { embedder: project.embedding?.model ?? defaultEmbedder });
    const ranking = await stores.rankings.get('flowers');
    expect(ranking?.model).toBe('tiny64');
    expect([...(ranking?.sampleIds ?? [])].sort()).toEqual([...before, late].sort());
  });
});
