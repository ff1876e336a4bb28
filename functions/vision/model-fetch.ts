// Gets the model files the manifests need into a model folder: downloads each missing (or corrupt) file from its
// pinned public URLs (or from a mirror), verifies size and sha256 while streaming, derives the files that are
// built by code (functions/vision/derive.ts) from their verified base file, and moves each into place only once it
// is complete and verified (temp file + rename), so a failure never leaves a half-written model behind. Used by
// `npm run models:fetch` and by the first `npm start` on a machine without the models.

import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DERIVATIONS } from './derive.js';
import { checkModels, DEFAULT_MODELS, loadManifests, type ModelManifest, type ModelSource } from './manifest.js';
import type { Log } from '../domain/ports.js';

export { DEFAULT_MODELS };

export interface FetchOptions {
  modelDir: string;
  manifestDir?: string;
  /** Manifest names whose files are wanted; default DEFAULT_MODELS. Files they are derived from come along. */
  models?: readonly string[];
  /**
   * Base URL of a folder serving the files by name (an internal mirror, or a copy for offline machines). It replaces
   * the public URLs; derived files are still built here, so the mirror needs only the downloadable files.
   */
  mirror?: string;
  log?: Log;
  /** sha256 cache for the files already present (see file-hash.ts); default: memory only. */
  hashCacheFile?: string | false;
  /** A download that receives nothing for this long is abandoned (default 60 s). */
  stallMs?: number;
}

export interface FetchReport {
  modelDir: string;
  fetched: { file: string; url: string; bytes: number }[];
  derived: string[];
  alreadyPresent: string[];
  /** Each failure says what went wrong and where: HTTP status, size or sha256 mismatch, and the URL. */
  failed: { file: string; reason: string }[];
  /** Manifests whose files are all present and verified afterwards. */
  usable: string[];
}

/** One file to put in place, and how. */
interface Item {
  file: string;
  manifest: string;
  sha256: string | null;
  bytes: number | null;
  source: ModelSource | undefined;
  /** For derived files: the file they are built from (already earlier in the plan). */
  baseFile?: string;
}

function sourceUrls(source: ModelSource | undefined): string[] {
  return source?.url ? [source.url, ...(source.alternateUrls ?? [])] : [...(source?.alternateUrls ?? [])];
}

/** Every file the named manifests need, the files they are derived from first. */
function plan(all: Map<string, ModelManifest>, names: readonly string[]): { items: Item[]; manifests: ModelManifest[] } {
  const items = new Map<string, Item>();
  const manifests = new Map<string, ModelManifest>();
  const visit = (name: string, chain: string[]) => {
    const m = all.get(name);
    if (!m) throw new Error(`no model manifest named "${name}" (known: ${[...all.keys()].join(', ')})`);
    if (chain.includes(name)) throw new Error(`model manifests derive from each other in a loop: ${[...chain, name].join(' -> ')}`);
    const base = m.source.derivedFrom;
    if (base) visit(base, [...chain, name]);
    manifests.set(name, m);
    if (!items.has(m.file)) {
      items.set(m.file, { file: m.file, manifest: m.name, sha256: m.sha256, bytes: m.bytes, source: m.source, baseFile: base ? all.get(base)!.file : undefined });
    }
    for (const o of m.outputs) {
      if (o.decode === 'embedding' || items.has(o.labels.file)) continue;
      items.set(o.labels.file, { file: o.labels.file, manifest: m.name, sha256: o.labels.sha256, bytes: o.labels.bytes ?? null, source: o.labels.source });
    }
  };
  for (const name of names) visit(name, []);
  return { items: [...items.values()], manifests: [...manifests.values()] };
}

export async function fetchModels(opts: FetchOptions): Promise<FetchReport> {
  const log = opts.log ?? console.log;
  const all = await loadManifests(opts.manifestDir);
  const { items, manifests } = plan(all, opts.models ?? DEFAULT_MODELS);
  const check = await checkModels(opts.modelDir, { manifests, hashCacheFile: opts.hashCacheFile ?? false });
  const present = new Set(check.present.map((p) => p.file));
  const report: FetchReport = { modelDir: opts.modelDir, fetched: [], derived: [], alreadyPresent: [], failed: [], usable: [] };
  await mkdir(opts.modelDir, { recursive: true });
  await removeAbandonedPartials(opts.modelDir);

  for (const item of items) {
    if (present.has(item.file)) {
      report.alreadyPresent.push(item.file);
      continue;
    }
    const corrupt = check.corrupt.find((c) => c.file === item.file);
    if (corrupt) log(`${item.file}: the copy in ${opts.modelDir} is damaged (${corrupt.message}); replacing it`);
    try {
      const derivation = item.source?.derivation;
      if (derivation) {
        await derive(item, derivation, opts.modelDir, present, log);
        report.derived.push(item.file);
      } else {
        report.fetched.push(await download(item, opts, log));
      }
      present.add(item.file);
    } catch (err) {
      const reason = (err as Error).message;
      report.failed.push({ file: item.file, reason });
      log(`FAILED ${item.file}: ${reason}`);
    }
  }
  const after = await checkModels(opts.modelDir, { manifests, hashCacheFile: opts.hashCacheFile ?? false });
  report.usable = after.usable;
  return report;
}

async function derive(item: Item, name: string, modelDir: string, present: Set<string>, log: Log): Promise<void> {
  const recipe = DERIVATIONS[name];
  if (!recipe) throw new Error(`its manifest names the derivation "${name}", which this version of Winnow does not have`);
  let base: Uint8Array | undefined;
  if (recipe.needsBase) {
    if (!item.baseFile) throw new Error(`the derivation "${name}" needs a base model, but the manifest names none in source.derivedFrom`);
    if (!present.has(item.baseFile)) throw new Error(`cannot derive it: its base file ${item.baseFile} is not available (see above)`);
    base = await readFile(path.join(modelDir, item.baseFile));
  }
  log(`deriving ${item.file}${item.baseFile ? ` from ${item.baseFile}` : ''}: ${recipe.describe}`);
  const bytes = recipe.derive(base);
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (item.sha256 !== null && sha !== item.sha256) {
    throw new Error(`the derived bytes have sha256 ${sha}, but the manifest expects ${item.sha256} (a different base file or derivation code?)`);
  }
  if (item.bytes !== null && bytes.byteLength !== item.bytes) throw new Error(`the derived file has ${bytes.byteLength} bytes, expected ${item.bytes}`);
  await writeAtomically(path.join(modelDir, item.file), (partial) => writeFile(partial, bytes, { mode: 0o644 }));
  log(`derived ${item.file} (${bytes.byteLength} bytes, sha256 verified)`);
}

async function download(item: Item, opts: FetchOptions, log: Log): Promise<FetchReport['fetched'][number]> {
  const urls = opts.mirror ? [`${opts.mirror.replace(/\/+$/, '')}/${encodeURIComponent(item.file)}`] : sourceUrls(item.source);
  if (urls.length === 0) throw new Error('its manifest records no download URL; put the file in the model folder by hand or use --mirror');
  const tried: string[] = [];
  for (const url of urls) {
    try {
      const bytes = await downloadOne(url, item, path.join(opts.modelDir, item.file), opts.stallMs ?? 60_000, log);
      if (item.sha256 === null) log(`${item.file}: its manifest pins no sha256, so it is NOT verified`);
      return { file: item.file, url, bytes };
    } catch (err) {
      tried.push(`${url}: ${(err as Error).message}`);
      if (urls.length > 1) log(`${item.file}: ${url} failed (${(err as Error).message})`);
    }
  }
  throw new Error(tried.length === 1 ? tried[0] : `every source failed: ${tried.join('; ')}`);
}

async function downloadOne(url: string, item: Item, target: string, stallMs: number, log: Log): Promise<number> {
  const abort = new AbortController();
  let stall = setTimeout(() => abort.abort(), stallMs);
  const alive = () => {
    clearTimeout(stall);
    stall = setTimeout(() => abort.abort(), stallMs);
  };
  try {
    let res: Response;
    try {
      res = await fetch(url, { signal: abort.signal, redirect: 'follow' });
    } catch (err) {
      throw new Error(abort.signal.aborted ? `no answer within ${stallMs / 1000} s` : `cannot connect (${networkReason(err)})`);
    }
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
    const announced = Number(res.headers.get('content-length') ?? NaN);
    if (item.bytes !== null && Number.isFinite(announced) && announced !== item.bytes && !res.headers.get('content-encoding')) {
      await res.body.cancel();
      throw new Error(`the server offers ${announced} bytes, expected ${item.bytes}`);
    }
    const total = item.bytes ?? (Number.isFinite(announced) ? announced : undefined);
    log(`downloading ${item.file}${total ? ` (${mb(total)})` : ''} from ${url}`);
    const hash = createHash('sha256');
    let received = 0;
    let nextReport = 0.25;
    const started = performance.now();
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        alive();
        hash.update(chunk);
        received += chunk.length;
        if (item.bytes !== null && received > item.bytes) return done(new Error(`the server sent more than the expected ${item.bytes} bytes`));
        if (total && received / total >= nextReport && received < total) {
          log(`  ${item.file}: ${Math.floor((received / total) * 100)} % (${mb(received)} of ${mb(total)})`);
          while (received / total >= nextReport) nextReport += 0.25;
        }
        done(null, chunk);
      },
    });
    await writeAtomically(target, async (partial) => {
      try {
        await pipeline(Readable.fromWeb(res.body as never), meter, createWriteStream(partial, { mode: 0o644 }));
      } catch (err) {
        throw new Error(abort.signal.aborted ? `the download stalled for ${stallMs / 1000} s after ${received} bytes` : (err as Error).message);
      }
      const sha = hash.digest('hex');
      if (item.bytes !== null && received !== item.bytes) throw new Error(`got ${received} bytes, expected ${item.bytes}`);
      if (item.sha256 !== null && sha !== item.sha256) throw new Error(`sha256 ${sha} does not match the manifest's ${item.sha256}`);
    });
    log(`fetched ${item.file} from ${url} (${mb(received)} in ${((performance.now() - started) / 1000).toFixed(1)} s, sha256 verified)`);
    return received;
  } finally {
    clearTimeout(stall);
  }
}

/** Writes through `write(partialPath)`, then renames into place; on any failure nothing is left at either path. */
async function writeAtomically(target: string, write: (partial: string) => Promise<void>): Promise<void> {
  const partial = path.join(path.dirname(target), `.${path.basename(target)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await write(partial);
    await rename(partial, target);
  } finally {
    await rm(partial, { force: true });
  }
}

/** Temp files of a download whose process is gone (killed mid-download): never used, so removed. */
async function removeAbandonedPartials(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    const pid = /^\..+\.partial-(\d+)-[0-9a-f]+$/.exec(name)?.[1];
    if (pid && !processAlive(Number(pid))) await rm(path.join(dir, name), { force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string; hostname?: string } }).cause;
  if (cause?.code === 'ENOTFOUND' || cause?.code === 'EAI_AGAIN') return `${cause.code}: host ${cause.hostname ?? ''} not found; offline?`.replace('host  ', 'host ');
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
