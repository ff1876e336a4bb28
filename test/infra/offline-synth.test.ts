// `cdk synth` bundles every Node.js function without the network: nothing is installed at synth time. Run here
// with an empty npm cache in offline mode, as on a fresh machine without registry access; the export function
// still gets sharp with its linux-x64 binaries (copied from node_modules), and the trainer and API bundles need none.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATHS } from '../../infra/paths.js';
import { synthWinnow, type Synthesized } from './support/synth.js';

let s: Synthesized;
const saved = { ...process.env };
const emptyCache = mkdtempSync(join(tmpdir(), 'winnow-npm-cache-'));

beforeAll(() => {
  Object.assign(process.env, { npm_config_cache: emptyCache, npm_config_offline: 'true', npm_config_registry: 'http://127.0.0.1:9/' });
  s = synthWinnow({ stage: 'dev', bundle: true });
}, 180_000);
afterAll(() => {
  for (const key of ['npm_config_cache', 'npm_config_offline', 'npm_config_registry']) {
    if (key in saved) process.env[key] = saved[key];
    else delete process.env[key];
  }
  s?.cleanup();
  rmSync(emptyCache, { recursive: true, force: true });
});

/** The staged asset folder of a function's code. */
function assetOf(fn: { node: { defaultChild?: unknown } }): string {
  const cfn = s.template.toJSON().Resources[s.stack.getLogicalId(fn.node.defaultChild as never)];
  const key: string = cfn.Properties.Code.S3Key;
  const hash = key.replace(/\.zip$/, '');
  const dir = readdirSync(s.outdir).find((d) => d === `asset.${hash}`);
  if (!dir) throw new Error(`no staged asset for ${key}`);
  return join(s.outdir, dir);
}

describe('synth without the network', () => {
  it('bundles the export function with sharp and its linux-x64 binaries beside the bundle', () => {
    const dir = assetOf(s.stack.exports.fn);
    expect(existsSync(join(dir, 'index.mjs'))).toBe(true);
    const pkg = JSON.parse(readFileSync(join(dir, 'node_modules/sharp/package.json'), 'utf8'));
    const locked = JSON.parse(readFileSync(PATHS.lockFile, 'utf8'));
    expect(pkg.version).toBe(locked.packages['node_modules/sharp'].version);
    expect(readdirSync(join(dir, 'node_modules/@img/sharp-linux-x64/lib')).some((f) => f.endsWith('.node'))).toBe(true);
    expect(existsSync(join(dir, 'node_modules/@img/sharp-libvips-linux-x64'))).toBe(true);
    expect(existsSync(join(dir, 'node_modules/@img/sharp-linux-arm64'))).toBe(false);
  });

  it('bundles the trainer and the API with no node_modules at all (no native package)', () => {
    for (const fn of [s.stack.trainer.fn, s.stack.api.fn]) {
      const dir = assetOf(fn);
      expect(readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    }
  });
});
