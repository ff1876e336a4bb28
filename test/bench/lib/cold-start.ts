// Cold start of the ingest worker: spawn a fresh Node process that creates the analyzer and analyses one image,
// timed from spawn to its first result. The child runs as one esbuild bundle with packages external, the way
// the ingest container runs its handler (no TypeScript compile at start-up), with an empty model-hash cache
// (a fresh Lambda container has none). Model files are in the OS page cache here, which a new container may not be.

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import type { ChildInput } from './cold-start-child.js';
import { REPO_ROOT } from './paths.js';

export interface ColdStart {
  detect: boolean;
  /** Spawn to the first analysis result, as seen by the parent. */
  firstResultMs: number;
  /** The child's own view: Node boot + module loading, analyzer creation (hash check, sessions), first analysis. */
  importedMs: number;
  analyzerMs: number;
  firstAnalyzeMs: number;
  /** Further images analysed after the first, and the worker process's peak RSS over all of them. */
  warmImages: number;
  warmImagesPerSecond: number;
  peakRssMiB: number;
}

/** Bundles the child once; returns the path of the .mjs (inside the repo so Node finds node_modules). */
export async function bundleColdStartChild(outDir: string): Promise<string> {
  const outfile = path.join(outDir, 'cold-start-child.mjs');
  await build({
    entryPoints: [path.join(REPO_ROOT, 'test/bench/lib/cold-start-child.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}

export async function measureColdStart(bundle: string, input: ChildInput): Promise<ColdStart> {
  const hashDir = await mkdtemp(path.join(os.tmpdir(), 'winnow-bench-hash-'));
  try {
    const started = performance.now();
    const child = spawn(process.execPath, [bundle, JSON.stringify(input)], {
      cwd: REPO_ROOT,
      env: { ...process.env, WINNOW_HASH_CACHE: path.join(hashDir, 'hashes.json') },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines: Record<string, number | string>[] = [];
    let firstResultMs = NaN;
    let buffered = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = JSON.parse(buffered.slice(0, nl)) as Record<string, number | string>;
        buffered = buffered.slice(nl + 1);
        if (line.milestone === 'first') firstResultMs = performance.now() - started;
        lines.push(line);
      }
    });
    const code = await new Promise<number | null>((resolve, reject) => child.on('error', reject).on('close', resolve));
    const first = lines.find((l) => l.milestone === 'first');
    const done = lines.find((l) => l.milestone === 'done');
    if (code !== 0 || !first || !done) throw new Error(`cold-start child exited with ${code} after ${JSON.stringify(lines)}`);
    return {
      detect: input.detect,
      firstResultMs,
      importedMs: Number(first.importedMs),
      analyzerMs: Number(first.analyzerMs),
      firstAnalyzeMs: Number(first.firstAnalyzeMs),
      warmImages: Number(done.images),
      warmImagesPerSecond: Number(done.images) / (Number(done.ms) / 1000),
      peakRssMiB: Number(done.peakRssMiB),
    };
  } finally {
    await rm(hashDir, { recursive: true, force: true });
  }
}
