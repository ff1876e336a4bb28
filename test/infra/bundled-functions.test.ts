// The bundled Node.js functions start in Lambda, where there is no node_modules folder beside the bundle (only the
// native packages a construct copies in): each entry is bundled here the way infra/constructs/node-function.ts has
// NodejsFunction do it (esbuild, ESM, the same externals and banner), written to an empty folder outside the
// repository and imported by node. A dependency the bundle does not carry (e.g. one loaded with
// createRequire(import.meta.url)('pkg'), which esbuild does not follow) fails the import with "Cannot find package";
// a bundle that carries everything gets as far as its own configuration check (no environment here).

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLE_TARGET } from '../../infra/constructs/lambda-runtime.js';
import { PATHS } from '../../infra/paths.js';

const BANNER = "import { createRequire as __winnowCreateRequire } from 'node:module'; const require = __winnowCreateRequire(import.meta.url);";
const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

/** Bundles the entry, imports it in a fresh node without any environment; returns what it printed. */
async function loadBundled(entry: string, external: string[]): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'winnow-bundle-'));
  dirs.push(dir);
  const out = await build({
    entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: BUNDLE_TARGET, mainFields: ['module', 'main'],
    external, banner: { js: BANNER }, write: false, logLevel: 'silent',
  });
  const file = path.join(dir, 'index.mjs');
  await writeFile(file, out.outputFiles[0].contents);
  const run = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(file)}); console.log('loaded')`], { cwd: dir, env: {} })
    .then((r) => r.stdout + r.stderr)
    .catch((e: { stdout: string; stderr: string }) => e.stdout + e.stderr);
  return run;
}

describe('bundled functions', () => {
  it('the API function loads without node_modules (onnx-proto, used by the classifier export and model inspection, is in the bundle)', async () => {
    const out = await loadBundled(PATHS.apiEntry, ['sharp']);
    expect(out).not.toMatch(/Cannot find (package|module)/);
    // It gets to its configuration: the stack's environment is missing here.
    expect(out).toContain('api function: missing or invalid environment');
  }, 120_000);

  it('the trainer function loads without node_modules', async () => {
    const out = await loadBundled(PATHS.trainerEntry, []);
    expect(out).not.toMatch(/Cannot find (package|module)/);
  }, 120_000);
});
