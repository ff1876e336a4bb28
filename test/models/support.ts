// Helpers for the custom-model tests: the steps a user's client takes through the API (upload with a presigned PUT,
// inspect), and photos uploaded to a project the way the web app does.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FLOWERS } from '../support/paths.js';
import { waitFor } from '../support/stack.js';

export type Api = (method: string, route: string, body?: unknown) => Promise<{ status: number; json: any }>;

/** Uploads a model file as a client does (presigned PUT) and asks Winnow to inspect it; returns the API's answer. */
export async function uploadAndInspect(api: Api, bytes: Uint8Array, body: { name: string; role?: string; inputShape?: (number | string)[] }) {
  const up = await api('POST', '/api/models/uploads', { bytes: bytes.byteLength });
  if (up.status !== 201) return up;
  const put = await fetch(up.json.url, { method: 'PUT', headers: up.json.headers, body: new Uint8Array(bytes) });
  if (put.status !== 200) throw new Error(`model upload PUT answered ${put.status}: ${await put.text()}`);
  return api('POST', '/api/models/inspect', { upload: up.json.upload, ...body });
}

/** Uploads flower photos (paths under tf_flowers_dev) to a project and waits until each is ingested. */
export async function uploadPhotos(api: Api, projectId: string, files: string[]): Promise<void> {
  const photos = await Promise.all(files.map((f) => readFile(path.join(FLOWERS, f))));
  const res = await api('POST', `/api/projects/${projectId}/uploads`, {
    files: files.map((f, i) => ({ name: f, contentType: 'image/jpeg', bytes: photos[i].length })),
  });
  if (res.status !== 200) throw new Error(`uploads answered ${res.status}: ${JSON.stringify(res.json)}`);
  const before = (await api('GET', `/api/projects/${projectId}/progress`)).json.images.ready as number;
  for (const [i, u] of (res.json.uploads as { url: string; headers: Record<string, string> }[]).entries()) {
    const put = await fetch(u.url, { method: 'PUT', headers: u.headers, body: photos[i] });
    if (put.status !== 200) throw new Error(`photo PUT answered ${put.status}`);
  }
  await waitFor(async () => (await api('GET', `/api/projects/${projectId}/progress`)).json.images.ready >= before + files.length, `ingest of ${files.length} photos`, 120_000);
}
