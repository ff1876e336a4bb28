// Bring your own detector, as a user would through the API: upload the YOLOX-Nano file under a new name (nothing but
// the file), accept the manifest Winnow proposes from the ONNX graph (with a class map onto the project's classes),
// see the trial run on the project's photos, register it, switch the project to it, and find its boxes on the photos
// ingested afterwards. The file is the one in ../shared/models, read from there (never copied into the repo).

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../functions/local/stack.js';
import { MODELS } from '../support/paths.js';
import { apiClient, startTestStack, tempDir } from '../support/stack.js';
import { uploadAndInspect, uploadPhotos } from './support.js';

// What the shipped YOLOX finds on these photos (score >= 0.3): a vase; apples; a person.
const VASE = 'tulips/113902743_8f537f769b_n.jpg';
const APPLES = 'tulips/13530786873_0d34880300_n.jpg';
const PERSON = 'dandelion/13946048982_4e6ec56987.jpg';

describe('registering a detector from its ONNX file alone', () => {
  let stack: LocalStack | undefined;
  afterAll(async () => {
    await stack?.close();
  });

  it('proposes a manifest from the graph, trial-runs it, registers it and ingests new photos with its mapped boxes', async () => {
    const dataDir = await tempDir('byo-detector');
    stack = await startTestStack(dataDir);
    const api = apiClient(stack.url, 'owner');
    expect((await api('POST', '/api/projects', { id: 'shop', classes: ['vase', 'fruit'], taskType: 'box-review' })).status).toBe(201);
    // Photos ingested before the switch: the stack's own detector, whose COCO names are not the project's classes.
    await uploadPhotos(api, 'shop', [PERSON]);

    const file = new Uint8Array(await readFile(path.join(MODELS, 'yolox_nano.onnx')));
    const inspected = await uploadAndInspect(api, file, { name: 'shop-detector' });
    expect(inspected.status).toBe(200);
    const { graph, proposal } = inspected.json;
    expect(graph.inputs).toEqual([{ name: 'images', dtype: 'float32', shape: [1, 3, 416, 416], dynamic: [] }]);
    expect(graph.outputs[0]).toMatchObject({ name: 'output', shape: [1, 3549, 85] });
    // Read from the shapes alone: a YOLOX head (3549 = 52² + 26² + 13² anchor points) with 80 classes.
    expect(proposal.manifest).toMatchObject({
      name: 'shop-detector',
      role: 'detector',
      sha256: 'd39bee73564e338080378b0ad567fbb40e818b55bbfaf971de82a0267ed16b8a',
      input: { name: 'images', shape: [1, 3, 416, 416] },
      preprocess: { resize: 'letterbox-top-left', size: 416, channels: 'BGR', scale: 1 },
      outputs: [{ name: 'output', decode: 'yolox', strides: [8, 16, 32], classes: 80 }],
    });
    expect(proposal.labels).toHaveLength(80);
    expect(proposal.labels).toContain('vase');
    // The file is stored once, by its sha256.
    expect(await stack.stores.blobs.head(`models/${inspected.json.sha256}`)).toBeDefined();

    // Accepted as proposed, with the detector's classes mapped onto the project's.
    const candidate = { manifest: proposal.manifest, labels: proposal.labels, classMap: { vase: 'vase', apple: 'fruit', orange: 'fruit' }, projectId: 'shop' };
    const trial = await api('POST', '/api/models/trial', candidate);
    expect(trial.status).toBe(200);
    expect(trial.json.trial).toMatchObject({ role: 'detector', source: { projectId: 'shop' } });
    expect(trial.json.trial.items).toHaveLength(1);
    // The person photo: the detector sees a person, which the class map leaves out.
    expect(trial.json.trial.items[0].boxes).toEqual([]);

    const registered = await api('POST', '/api/models', candidate);
    expect(registered.status).toBe(201);
    expect(registered.json.model).toMatchObject({ name: 'shop-detector', role: 'detector', classes: 80 });
    expect((await api('POST', '/api/models', candidate)).status).toBe(409); // the name is taken now
    expect((await api('GET', '/api/models')).json.models.map((m: { name: string }) => m.name)).toEqual(['shop-detector']);

    expect((await api('PUT', '/api/projects/shop/models', { detector: 'shop-detector' })).json).toMatchObject({ detector: 'shop-detector' });
    // Ingest reads a project's settings through a 2-second cache (functions/ingest/recent-projects.ts), still holding
    // the project as the person photo's ingest read it: photos uploaded after that use the new detector.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    await uploadPhotos(api, 'shop', [VASE, APPLES]);

    const samples = (await stack.stores.samples.listSamples('shop', { limit: 100 })).items;
    const images = (await stack.stores.samples.listImages('shop', { limit: 100 })).items;
    const proposalsOf = (name: string) => {
      const image = images.find((i) => i.key.endsWith(name))!;
      return samples.find((s) => s.sampleId === image.imageId)!.proposals ?? [];
    };
    // New photos: the registered detector's boxes, named with the project's classes through the class map.
    expect(proposalsOf(VASE).map((p) => p.classIndex)).toEqual([0]);
    expect(proposalsOf(VASE)[0].score).toBeGreaterThan(0.7);
    expect(proposalsOf(APPLES).length).toBeGreaterThanOrEqual(1);
    expect(proposalsOf(APPLES).every((p) => p.classIndex === 1)).toBe(true);
    // The photo ingested before the switch kept the stack's detector's box (a COCO "person", no project class).
    expect(proposalsOf(PERSON).map((p) => p.classIndex)).toEqual([-1]);
    // Editing the detection thresholds in the project's settings keeps the registered detector.
    const project = (await api('GET', '/api/projects/shop')).json.project;
    expect((await api('PATCH', '/api/projects/shop', { version: project.version, detection: { scoreThreshold: 0.4 } })).status).toBe(200);
    expect((await api('GET', '/api/projects/shop/models')).json.detector).toBe('shop-detector');
    // The registered file was fetched from the bucket into the stack's model cache, by sha256.
    expect((await readFile(path.join(dataDir, 'models', `${inspected.json.sha256}.onnx`))).byteLength).toBe(file.byteLength);

    // Unregistering is refused while the project uses it; once it uses the default again, the file goes too.
    const inUse = await api('DELETE', '/api/models/shop-detector');
    expect(inUse.status).toBe(409);
    expect(inUse.json).toMatchObject({ projects: ['shop'] });
    expect(inUse.json.message).toMatch(/in use by project shop/);
    expect((await api('PUT', '/api/projects/shop/models', { detector: null })).json.detector).toBeNull();
    expect((await api('DELETE', '/api/models/shop-detector')).json).toEqual({ deleted: 'shop-detector', fileDeleted: true });
    expect(await stack.stores.blobs.head(`models/${inspected.json.sha256}`)).toBeUndefined();
    expect((await api('GET', '/api/models')).json.models).toEqual([]);
  });
});
