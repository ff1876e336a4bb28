// `npm run models:fetch` as a stranger runs it, against a local HTTP server standing in for the public sources and
// holding ONLY the public base files: every default model is produced, the derived embedder included, each file
// verified. A mirror serving damaged bytes gets a clear refusal naming the file, the reason and the URL, and nothing
// half-written is left in the model folder.

import { execFile } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkModels } from '../../functions/vision/manifest.js';
import { PUBLIC_BASE_FILES, startModelMirror, type ModelMirror } from '../support/model-mirror.js';
import { MODELS, REPO } from '../support/paths.js';
import { tempDir } from '../support/stack.js';

const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(REPO, 'functions/cli/main.ts'), 'models:fetch', ...args], {
    cwd: REPO,
    env: { ...process.env, WINNOW_MODELS_MIRROR: '', ...env },
  })
    .then((r) => ({ code: 0, out: r.stdout + r.stderr }))
    .catch((e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }));

describe('models:fetch', () => {
  let mirror: ModelMirror;
  beforeAll(async () => {
    mirror = await startModelMirror();
  });
  afterAll(() => mirror.close());

  it('produces every default model from a mirror holding only the public base files, derived ones included', async () => {
    expect((await readdir(mirror.dir)).sort()).toEqual([...PUBLIC_BASE_FILES].sort());
    const dir = path.join(await tempDir('models'), 'not-yet-created');
    const first = await run(['--dir', dir, '--mirror', mirror.url, '--model', 'mobilenetv2']);
    expect(first.code).toBe(0);
    // What a download killed half-way leaves behind is cleaned up by the next run.
    await writeFile(path.join(dir, '.yolox_nano.onnx.partial-2147483646-0a1b2c3d'), 'half a model');
    const { code, out } = await run(['--dir', dir, '--mirror', mirror.url]);
    expect(out).toContain(`fetched yolox_nano.onnx from ${mirror.url}/yolox_nano.onnx`);
    expect(out).toContain('deriving mobilenetv2-12-int8-features.onnx from mobilenetv2-12-int8.onnx');
    expect(out).toContain('derived coco80.json');
    expect(first.out).toMatch(/downloading mobilenetv2-12-int8\.onnx \(3\.7 MB\)/); // progress, with the size
    expect(first.out).toMatch(/mobilenetv2-12-int8\.onnx: \d+ % \([\d.]+ MB of 3\.7 MB\)/);
    expect(code).toBe(0);
    // Only the base files were asked of the mirror: the derived ones were built here.
    expect([...new Set(mirror.requests)].sort()).toEqual([...PUBLIC_BASE_FILES].sort());
    expect((await readdir(dir)).filter((f) => f.includes('partial'))).toEqual([]);
    const after = await checkModels(dir, { hashCacheFile: false });
    expect(after.corrupt).toEqual([]);
    expect(after.usable).toEqual(expect.arrayContaining(['mobilenetv2-features', 'mobilenetv2', 'yolox-nano']));
    // The derivation reproduces the team's file byte for byte.
    const derived = await readFile(path.join(dir, 'mobilenetv2-12-int8-features.onnx'));
    expect(derived.equals(await readFile(path.join(MODELS, 'mobilenetv2-12-int8-features.onnx')))).toBe(true);

    // A second run has nothing to do.
    const again = await run(['--dir', dir, '--mirror', mirror.url]);
    expect(again.code).toBe(0);
    expect(again.out).toContain('fetched 0, derived 0, already present 5, failed 0');
  });

  it('refuses a corrupted file with the reason and the URL, and leaves nothing half-written', async () => {
    const bad = await startModelMirror(await tempDir('mirror-bad'));
    try {
      const yolox = await readFile(path.join(MODELS, 'yolox_nano.onnx'));
      yolox[yolox.length >> 1] ^= 0xff; // same size, one flipped byte
      await writeFile(path.join(bad.dir, 'yolox_nano.onnx'), yolox);
      const truncated = (await readFile(path.join(MODELS, 'mobilenetv2-12-int8.onnx'))).subarray(0, 1000);
      await writeFile(path.join(bad.dir, 'mobilenetv2-12-int8.onnx'), truncated);
      // imagenet-simple-labels.json is not served at all: a 404.

      const dir = await tempDir('models-bad');
      await writeFile(path.join(dir, 'yolox_nano.onnx'), 'an old damaged copy');
      const { code, out } = await run(['--dir', dir, '--mirror', bad.url]);
      expect(code).toBe(1);
      expect(out).toMatch(new RegExp(`FAILED yolox_nano\\.onnx: .*sha256 [0-9a-f]{64} does not match the manifest's d39bee73`));
      expect(out).toContain(`${bad.url}/yolox_nano.onnx`);
      expect(out).toMatch(/FAILED mobilenetv2-12-int8\.onnx: .*the server offers 1000 bytes, expected 3655033/);
      expect(out).toMatch(new RegExp(`FAILED imagenet-simple-labels\\.json: ${bad.url.replace(/[.]/g, '\\.')}/imagenet-simple-labels\\.json: HTTP 404`));
      expect(out).toMatch(/FAILED mobilenetv2-12-int8-features\.onnx: cannot derive it: its base file mobilenetv2-12-int8\.onnx is not available/);
      // Nothing partial; the damaged copy was not replaced by other damaged bytes; no model appeared.
      const files = (await readdir(dir)).sort();
      expect(files).toEqual(['coco80.json', 'yolox_nano.onnx']);
      expect(await readFile(path.join(dir, 'yolox_nano.onnx'), 'utf8')).toBe('an old damaged copy');
      expect((await stat(path.join(dir, 'coco80.json'))).size).toBe(783);
    } finally {
      await bad.close();
    }
  });

  it('says why when the public sources cannot be reached', async () => {
    const dir = await tempDir('models-offline');
    // A port nothing listens on (any more) stands in for "offline".
    const gone = await startModelMirror(dir);
    await gone.close();
    const { code, out } = await run(['--dir', dir, '--model', 'yolox-nano', '--mirror', gone.url]);
    expect(code).toBe(1);
    expect(out).toContain(`FAILED yolox_nano.onnx: ${gone.url}/yolox_nano.onnx: cannot connect (ECONNREFUSED)`);
    expect((await readdir(dir)).filter((f) => f.endsWith('.onnx') || f.includes('partial'))).toEqual([]);
  });
});
