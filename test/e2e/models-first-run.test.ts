// `npm start` on a machine without the team's model folder: the stack serves at once, in upload order, while the
// default models are fetched (here from a local mirror holding only the public base files) and verified; once they
// arrive, an image uploaded before is ingested again and gets its embedding, and later uploads are embedded at
// once. Offline, it keeps working in upload order and says how to get the models.

import { spawn } from 'node:child_process';
import { copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { imageIdFor } from '../../functions/domain/ingest.js';
import type { LocalStack } from '../../functions/local/stack.js';
import { prepareLocalModels, type LocalModels } from '../../functions/local/models.js';
import { EmbeddingReader } from '../../functions/adapters/embeddings/reader.js';
import { startModelMirror } from '../support/model-mirror.js';
import { FLOWERS, MODELS, REPO } from '../support/paths.js';
import { apiClient, startTestStack, tempDir, waitFor } from '../support/stack.js';

const DAISY = path.join(FLOWERS, 'daisy/100080576_f52e8ee070_n.jpg');
const ROSE = path.join(FLOWERS, 'roses/10090824183_d02c613f10_m.jpg');

const embeddedIds = async (stack: LocalStack, project: string) =>
  new Set((await new EmbeddingReader(stack.stores.blobs, project, 'mobilenetv2-features').load()).sampleIds);

const readyImage = (stack: LocalStack, project: string, key: string) =>
  waitFor(async () => {
    const image = await stack.stores.samples.getImage(project, imageIdFor(key));
    return image?.status === 'ready' ? image : undefined;
  }, `${key} to be ingested`);

describe('first start without models', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });

  async function start(mirror: string, lines: string[]): Promise<{ stack: LocalStack; models: LocalModels; modelDir: string }> {
    const modelDir = path.join(await tempDir('first-run'), 'models'); // does not exist yet
    const dataDir = await tempDir('first-run-data');
    const log = (line: string) => lines.push(line);
    const models = await prepareLocalModels({ modelDir, dataDir, mirror, log, warn: log });
    const stack = await startTestStack(dataDir, { analyzer: models.analyzer });
    cleanups.push(() => stack.close());
    models.attach(stack);
    return { stack, models, modelDir };
  }

  it('serves in upload order meanwhile, then embeds what was uploaded before the models arrived and after', async () => {
    let open!: () => void;
    const mirror = await startModelMirror(undefined, { gate: new Promise<void>((r) => (open = r)) });
    cleanups.push(async () => {
      open();
      await mirror.close();
    });
    const lines: string[] = [];
    const { stack, models, modelDir } = await start(mirror.url, lines);
    expect(lines.join('\n')).toMatch(/model missing: model file mobilenetv2-12-int8-features\.onnx/);
    expect(lines.join('\n')).toContain(`fetching what is missing into ${modelDir} from ${mirror.url}`);
    expect(models.describe()).toContain('fetching the default models in the background');

    // Before the models arrive: an upload is stored, shown and served, without an embedding.
    const api = apiClient(stack.url, 'owner');
    expect((await api('POST', '/api/projects', { id: 'flowers', classes: ['daisy', 'rose'] })).status).toBe(201);
    await stack.stores.blobs.put('uploads/flowers/daisy.jpg', await readFile(DAISY), 'image/jpeg');
    await readyImage(stack, 'flowers', 'uploads/flowers/daisy.jpg');
    const next = await api('GET', '/api/projects/flowers/next');
    expect(next.status).toBe(200);
    expect(next.json.samples).toHaveLength(1);
    expect((await embeddedIds(stack, 'flowers')).size).toBe(0);

    // The models arrive (verified, the embedder derived): the earlier image is ingested again and embedded.
    open();
    await models.settled;
    const out = lines.join('\n');
    expect(out).toContain('models: deriving mobilenetv2-12-int8-features.onnx from mobilenetv2-12-int8.onnx');
    expect(out).toMatch(/models: ready \(embedder: mobilenetv2-features, detector: yolox-nano\)/);
    expect(out).toMatch(/ingesting again 1 image\(s\) that were stored without an embedding/);
    const daisyId = imageIdFor('uploads/flowers/daisy.jpg');
    await waitFor(async () => (await embeddedIds(stack, 'flowers')).has(daisyId), 'the early upload to be embedded');

    // A later upload is embedded at once.
    await stack.stores.blobs.put('uploads/flowers/rose.jpg', await readFile(ROSE), 'image/jpeg');
    await readyImage(stack, 'flowers', 'uploads/flowers/rose.jpg');
    expect((await embeddedIds(stack, 'flowers')).has(imageIdFor('uploads/flowers/rose.jpg'))).toBe(true);
    expect(models.describe()).toMatch(/embedder: mobilenetv2-features, detector: yolox-nano\)$/);
  });

  it('offline: says what failed and how to get the models, and keeps serving in upload order', async () => {
    const gone = await startModelMirror(await tempDir('gone'));
    await gone.close(); // nothing listens there any more
    const lines: string[] = [];
    const { stack, models } = await start(gone.url, lines);
    await models.settled;
    const out = lines.join('\n');
    expect(out).toMatch(/models: could not get .*mobilenetv2-12-int8\.onnx.*cannot connect \(ECONNREFUSED\)/);
    expect(out).toContain('images are stored and served in upload order');
    expect(out).toContain('npm run models:fetch');
    const api = apiClient(stack.url, 'owner');
    expect((await api('POST', '/api/projects', { id: 'offline', classes: ['daisy', 'rose'] })).status).toBe(201);
    await stack.stores.blobs.put('uploads/offline/daisy.jpg', await readFile(DAISY), 'image/jpeg');
    await readyImage(stack, 'offline', 'uploads/offline/daisy.jpg');
    const next = await api('GET', '/api/projects/offline/next');
    expect(next.status).toBe(200);
    expect(next.json.samples).toHaveLength(1);
  });

  it('with fetching off, images stored without the models are analysed on the first start that has them', async () => {
    const modelDir = await tempDir('no-fetch-models');
    const dataDir = await tempDir('no-fetch-data');
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    const before = await prepareLocalModels({ modelDir, dataDir, fetch: false, log, warn: log });
    let stack = await startTestStack(dataDir, { analyzer: before.analyzer });
    before.attach(stack);
    await before.settled;
    expect(lines.join('\n')).toMatch(/model missing: model file mobilenetv2-12-int8-features\.onnx/);
    expect(lines.join('\n')).not.toContain('fetching');
    const api = apiClient(stack.url, 'owner');
    expect((await api('POST', '/api/projects', { id: 'later', classes: ['daisy', 'rose'] })).status).toBe(201);
    await stack.stores.blobs.put('uploads/later/daisy.jpg', await readFile(DAISY), 'image/jpeg');
    await readyImage(stack, 'later', 'uploads/later/daisy.jpg');
    await stack.close();

    // `npm run models:fetch` (here: the team's files copied in), then a restart on the same data folder.
    for (const f of ['mobilenetv2-12-int8-features.onnx', 'imagenet-simple-labels.json', 'yolox_nano.onnx', 'coco80.json']) {
      await copyFile(path.join(MODELS, f), path.join(modelDir, f));
    }
    const after = await prepareLocalModels({ modelDir, dataDir, fetch: false, log, warn: log });
    stack = await startTestStack(dataDir, { analyzer: after.analyzer });
    cleanups.push(() => stack.close());
    after.attach(stack);
    await after.settled;
    expect(lines.join('\n')).toMatch(/ingesting again 1 image\(s\) that were stored without an embedding/);
    const daisyId = imageIdFor('uploads/later/daisy.jpg');
    await waitFor(async () => (await embeddedIds(stack, 'later')).has(daisyId), 'the image stored before to be embedded');
  });

  it('npm start with WINNOW_MODELS_MIRROR: the banner comes first, then the models are fetched into the empty folder', async () => {
    const mirror = await startModelMirror();
    cleanups.push(() => mirror.close());
    const modelDir = path.join(await tempDir('first-run-npm'), 'models');
    const child = spawn(
      process.execPath,
      ['--openssl-legacy-provider', '--import', 'tsx', path.join(REPO, 'functions/local/main.ts'), '--port', '0', '--data', await tempDir('first-run-npm-data')],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PORT: '', WINNOW_MODELS: modelDir, WINNOW_MODELS_MIRROR: mirror.url, WINNOW_MODELS_FETCH: '' } },
    );
    cleanups.push(async () => child.kill('SIGKILL'));
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    await waitFor(async () => /models: ready/.test(output) || child.exitCode !== null, 'npm start to get its models');
    expect(output).toMatch(/Winnow is running at [\s\S]*models: +\S+ \(embedder: none, detector: none\) \(fetching the default models in the background\)/);
    expect(output.indexOf('Winnow is running at')).toBeLessThan(output.indexOf('models: downloading'));
    expect(output).toMatch(/models: fetched yolox_nano\.onnx from http:\/\/127\.0\.0\.1:\d+\/yolox_nano\.onnx/);
    expect(output).toContain('models: ready (embedder: mobilenetv2-features, detector: yolox-nano)');
  });
});
