// `npm run models:fetch` against a local HTTP server standing in for the public sources: missing files are
// downloaded and verified; a server that sends the wrong bytes is refused and nothing corrupt is left behind.

import { execFile } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkModels } from '../../functions/vision/manifest.js';
import { MODELS, REPO } from '../support/paths.js';
import { tempDir } from '../support/stack.js';

const run = (args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(REPO, 'functions/cli/main.ts'), 'models:fetch', ...args], { cwd: REPO })
    .then((r) => ({ code: 0, out: r.stdout + r.stderr }))
    .catch((e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }));

describe('models:fetch', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const name = decodeURIComponent(new URL(req.url!, 'http://x').pathname.split('/').pop()!);
      if (req.url!.startsWith('/bad/')) {
        res.end('<html>rate limited</html>'); // what a misbehaving mirror might send instead of the model
        return;
      }
      const file = path.join(MODELS, name);
      if (!existsSync(file)) {
        res.statusCode = 404;
        res.end();
        return;
      }
      createReadStream(file).pipe(res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('downloads every missing file and verifies it', async () => {
    const dir = await tempDir('models');
    const before = await checkModels(dir, { hashCacheFile: false });
    expect(before.missing.map((m) => m.file)).toContain('mobilenetv2-12-int8-features.onnx');
    const { code, out } = await run(['--dir', dir, '--mirror', base]);
    expect(out).toContain('fetched mobilenetv2-12-int8-features.onnx');
    const after = await checkModels(dir, { hashCacheFile: false });
    expect(after.corrupt).toEqual([]);
    expect(after.usable).toEqual(expect.arrayContaining(['mobilenetv2-features', 'yolox-nano']));
    // Only the documented DINOv2 weights, which cannot be obtained here, remain missing.
    expect(after.missing.map((m) => m.file)).toEqual(['dinov2_vits14_reg.onnx']);
    expect(code).toBe(1);
  });

  it('refuses bytes whose sha256 does not match and leaves no partial file', async () => {
    const dir = await tempDir('models-bad');
    await writeFile(path.join(dir, 'yolox_nano.onnx'), 'truncated');
    const { code, out } = await run(['--dir', dir, '--mirror', `${base}/bad`]);
    expect(code).toBe(1);
    expect(out).toMatch(/FAILED yolox_nano\.onnx: got \d+ bytes, expected 3713911/);
    expect((await readdir(dir)).filter((f) => f.includes('partial'))).toEqual([]);
  });
});
