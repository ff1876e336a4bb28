// `npm run models:fetch [-- --dir DIR] [--mirror URL]`: download every model file the manifests need and is
// missing (or corrupt) in the model folder, verifying size and sha256 before it is moved into place.

import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checkModels, loadManifests, type ModelManifest } from '../vision/manifest.js';

export interface FetchOptions {
  modelDir: string;
  /** Base URL serving the files by name (e.g. an internal mirror); default: each manifest's public source URL. */
  mirror?: string;
  log?: (line: string) => void;
}

export interface FetchReport {
  fetched: string[];
  alreadyPresent: string[];
  failed: { file: string; reason: string }[];
}

interface Wanted {
  file: string;
  sha256: string | null;
  bytes: number | null;
  url?: string;
}

function wantedFiles(manifests: ModelManifest[]): Map<string, Wanted> {
  const wanted = new Map<string, Wanted>();
  for (const m of manifests) {
    wanted.set(m.file, { file: m.file, sha256: m.sha256, bytes: m.bytes, url: m.source?.url });
    for (const o of m.outputs) {
      if (o.decode === 'embedding' || wanted.has(o.labels.file)) continue;
      wanted.set(o.labels.file, { file: o.labels.file, sha256: o.labels.sha256, bytes: null, url: o.labels.source?.url });
    }
  }
  return wanted;
}

export async function fetchModels(opts: FetchOptions): Promise<FetchReport> {
  const log = opts.log ?? console.log;
  const manifests = [...(await loadManifests()).values()];
  const check = await checkModels(opts.modelDir, { manifests, hashCacheFile: false });
  const wanted = wantedFiles(manifests);
  const todo = [...check.missing.map((m) => m.file), ...check.corrupt.map((c) => c.file)];
  const report: FetchReport = { fetched: [], alreadyPresent: check.present.map((p) => p.file), failed: [] };
  await mkdir(opts.modelDir, { recursive: true });
  for (const file of new Set(todo)) {
    const want = wanted.get(file)!;
    const url = opts.mirror ? `${opts.mirror.replace(/\/$/, '')}/${encodeURIComponent(file)}` : want.url;
    if (!url) {
      report.failed.push({ file, reason: 'no download URL recorded in its manifest; use --mirror or copy it by hand' });
      continue;
    }
    try {
      await download(url, path.join(opts.modelDir, file), want);
      report.fetched.push(file);
      log(`fetched ${file} from ${url} (sha256 verified)`);
    } catch (err) {
      report.failed.push({ file, reason: (err as Error).message });
      log(`FAILED ${file}: ${(err as Error).message}`);
    }
  }
  return report;
}

async function download(url: string, target: string, want: Wanted): Promise<void> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} from ${url}`);
  const partial = `${target}.partial-${process.pid}`;
  const hash = createHash('sha256');
  let bytes = 0;
  const counted = Readable.fromWeb(res.body as never).map((chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
    return chunk;
  });
  try {
    await pipeline(counted, createWriteStream(partial, { mode: 0o644 }));
    const sha = hash.digest('hex');
    if (want.bytes !== null && bytes !== want.bytes) throw new Error(`got ${bytes} bytes, expected ${want.bytes}`);
    if (want.sha256 !== null && sha !== want.sha256) throw new Error(`sha256 ${sha} does not match the manifest's ${want.sha256}`);
    await rename(partial, target);
  } finally {
    await rm(partial, { force: true });
  }
}
