// Browser uploads straight to the bucket: the API hands out presigned PUT URLs in batches (just before they are
// used, since they expire), files go up in parallel with per-file progress, failures are retried with backoff
// (a fresh URL if the old one was refused) and what still fails is listed, never dropped silently.

import type { UploadGrant } from '../api/types.js';

export interface UploadItem {
  /** Path relative to the dropped folder (or the file name), kept so class folders survive. */
  name: string;
  file: Blob;
  contentType: string;
  bytes: number;
  sent: number;
  state: 'queued' | 'uploading' | 'done' | 'failed';
  attempts: number;
  error?: string;
}

export interface UploadDeps {
  /** Asks the API for presigned URLs for these files; undefined when the server has no upload endpoint. */
  grant(files: { name: string; contentType: string; bytes: number }[]): Promise<UploadGrant[] | undefined>;
  /** PUTs the file to the URL, reporting bytes sent; rejects with an UploadHttpError or a network error. */
  put(url: string, item: UploadItem, onProgress: (sent: number) => void): Promise<void>;
  onUpdate(items: UploadItem[]): void;
  concurrency?: number;
  /** Attempts per file before it is listed as failed. */
  attempts?: number;
  batchSize?: number;
  sleep?: (ms: number) => Promise<void>;
}

export class UploadHttpError extends Error {
  constructor(
    readonly status: number,
    message = `upload refused (HTTP ${status})`,
  ) {
    super(message);
  }
}

const IMAGE_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  avif: 'image/avif',
  bmp: 'image/bmp',
};

export function imageContentType(name: string, declared?: string): string | undefined {
  if (declared?.startsWith('image/')) return declared;
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase();
  return ext ? IMAGE_TYPES[ext] : undefined;
}

/** Image files become upload items; everything else is returned separately so the page can list it as skipped. */
export function toUploadItems(files: { name: string; file: Blob }[]): { items: UploadItem[]; skipped: string[] } {
  const items: UploadItem[] = [];
  const skipped: string[] = [];
  for (const { name, file } of files) {
    const contentType = imageContentType(name, file.type);
    if (!contentType) skipped.push(name);
    else items.push({ name, file, contentType, bytes: file.size, sent: 0, state: 'queued', attempts: 0 });
  }
  return { items, skipped };
}

export function totals(items: UploadItem[]) {
  let bytes = 0;
  let sent = 0;
  let done = 0;
  let failed = 0;
  for (const i of items) {
    bytes += i.bytes;
    sent += i.state === 'done' ? i.bytes : i.sent;
    if (i.state === 'done') done++;
    if (i.state === 'failed') failed++;
  }
  return { bytes, sent, done, failed, count: items.length };
}

/** Uploads every queued or failed item; resolves when each is done or failed for good. */
export async function runUploads(items: UploadItem[], deps: UploadDeps): Promise<void> {
  const concurrency = deps.concurrency ?? 4;
  const maxAttempts = deps.attempts ?? 4;
  const batchSize = deps.batchSize ?? 50;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const todo = items.filter((i) => i.state !== 'done');
  todo.forEach((i) => Object.assign(i, { state: 'queued', attempts: 0, sent: 0, error: undefined }));
  deps.onUpdate(items);

  const urls = new Map<UploadItem, string>();
  let nextIndex = 0;
  let granting: Promise<void> | undefined;

  async function grantFrom(start: number): Promise<void> {
    // Only files still without a URL: a refused URL is replaced without re-granting its whole batch.
    const batch = todo.slice(start, start + batchSize).filter((i) => !urls.has(i) && i.state !== 'done');
    const grants = await deps.grant(batch.map((i) => ({ name: i.name, contentType: i.contentType, bytes: i.bytes })));
    if (!grants) throw new UploadHttpError(404, 'this server does not accept browser uploads yet (use the CLI import)');
    const byName = new Map(grants.map((g) => [g.name, g.url]));
    batch.forEach((i) => {
      const url = byName.get(i.name);
      if (url) urls.set(i, url);
    });
  }

  async function urlFor(item: UploadItem, index: number): Promise<string> {
    while (!urls.has(item)) {
      // One grant request at a time; a worker whose batch is being granted by another waits for it.
      if (granting) {
        await granting.catch(() => undefined);
        continue;
      }
      granting = grantFrom(index - (index % batchSize)).finally(() => (granting = undefined));
      await granting;
      if (!urls.has(item)) throw new Error('the server did not return an upload URL for this file');
    }
    return urls.get(item)!;
  }

  async function uploadOne(item: UploadItem, index: number): Promise<void> {
    while (true) {
      item.attempts++;
      item.state = 'uploading';
      item.sent = 0;
      deps.onUpdate(items);
      try {
        const url = await urlFor(item, index);
        await deps.put(url, item, (sent) => {
          item.sent = sent;
          deps.onUpdate(items);
        });
        item.state = 'done';
        item.error = undefined;
        deps.onUpdate(items);
        return;
      } catch (err) {
        item.error = (err as Error).message;
        // A refused URL (expired or revoked) is re-granted on the next attempt.
        if (err instanceof UploadHttpError && (err.status === 403 || err.status === 400)) urls.delete(item);
        const permanent = err instanceof UploadHttpError && err.status >= 400 && err.status < 500 && err.status !== 403 && err.status !== 408 && err.status !== 429;
        if (permanent || item.attempts >= maxAttempts) {
          item.state = 'failed';
          deps.onUpdate(items);
          return;
        }
        item.state = 'queued';
        deps.onUpdate(items);
        await sleep(500 * 2 ** (item.attempts - 1));
      }
    }
  }

  async function worker(): Promise<void> {
    while (nextIndex < todo.length) {
      const index = nextIndex++;
      await uploadOne(todo[index], index);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, worker));
}

/** PUT with upload progress (fetch cannot report it). */
export function xhrPut(url: string, item: UploadItem, onProgress: (sent: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    xhr.setRequestHeader('Content-Type', item.contentType);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new UploadHttpError(xhr.status)));
    xhr.onerror = () => reject(new Error('network error during upload'));
    xhr.ontimeout = () => reject(new Error('upload timed out'));
    xhr.send(item.file);
  });
}

/** Files from a drop, walking dropped folders (their relative paths become the upload names). */
export async function filesFromDrop(dataTransfer: DataTransfer): Promise<{ name: string; file: File }[]> {
  const entries = Array.from(dataTransfer.items ?? [])
    .map((i) => (i.kind === 'file' ? i.webkitGetAsEntry?.() : null))
    .filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) return Array.from(dataTransfer.files ?? []).map((file) => ({ name: file.name, file }));
  const out: { name: string; file: File }[] = [];
  for (const entry of entries) await walk(entry, out);
  return out;
}

async function walk(entry: FileSystemEntry, out: { name: string; file: File }[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
    out.push({ name: entry.fullPath.replace(/^\//, ''), file });
    return;
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries returns at most ~100 entries per call: read until it returns none.
  while (true) {
    const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
    if (batch.length === 0) break;
    for (const child of batch) await walk(child, out);
  }
}
