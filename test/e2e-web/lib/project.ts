// Projects and images for the browser tests, set up through the HTTP API as an owner script would: presigned
// PUT uploads straight to the local S3, then a wait for ingest.

import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { FLOWERS } from '../../support/paths.js';
import { waitFor } from '../../support/stack.js';

export type Call = (method: string, route: string, body?: unknown) => Promise<{ status: number; json: any }>;

/** An API caller with either a labeler name (no sign-in) or a bearer token. */
export function caller(base: string, who: { user: string } | { token: string }): Call {
  return async (method, route, body) => {
    const identity: Record<string, string> = 'user' in who ? { 'x-winnow-user': who.user } : { authorization: `Bearer ${who.token}` };
    const res = await fetch(`${base}${route}`, {
      method,
      headers: { ...identity, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, json: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
  };
}

/** `perClass` photos of each tf_flowers class, in a stable order (relative paths like `daisy/123.jpg`). */
export async function flowerFiles(perClass: number): Promise<string[]> {
  const classes = (await readdir(FLOWERS, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const out: string[] = [];
  for (const c of classes) {
    const files = (await readdir(path.join(FLOWERS, c))).filter((f) => f.endsWith('.jpg')).sort();
    out.push(...files.slice(0, perClass).map((f) => `${c}/${f}`));
  }
  return out;
}

/** Uploads dataset files through the API's presigned PUTs (as the CLI or a script would). */
export async function uploadThroughApi(api: Call, projectId: string, relPaths: string[]): Promise<void> {
  for (let i = 0; i < relPaths.length; i += 100) {
    const batch = relPaths.slice(i, i + 100);
    const bodies = await Promise.all(batch.map((p) => readFile(path.join(FLOWERS, p))));
    const grant = await api('POST', `/api/projects/${projectId}/uploads`, {
      files: batch.map((p, k) => ({ name: p, contentType: 'image/jpeg', bytes: bodies[k].length })),
    });
    if (grant.status !== 200) throw new Error(`upload grant failed: ${grant.status} ${JSON.stringify(grant.json)}`);
    let next = 0;
    const put = async () => {
      while (next < batch.length) {
        const k = next++;
        const u = grant.json.uploads[k];
        const res = await fetch(u.url, { method: 'PUT', headers: u.headers, body: bodies[k] });
        if (!res.ok) throw new Error(`PUT ${u.key}: ${res.status}`);
      }
    };
    await Promise.all([put(), put(), put(), put()]);
  }
}

/** Waits until `count` images of the project are processed (ready or failed) and returns the progress. */
export async function waitForIngest(api: Call, projectId: string, count: number, timeoutMs = 120_000): Promise<any> {
  return waitFor(
    async () => {
      const p = await api('GET', `/api/projects/${projectId}/progress`);
      const images = p.json?.images;
      return images && images.ready + images.failed >= count && images.pending === 0 && p.json;
    },
    `ingest of ${count} images in ${projectId}`,
    timeoutMs,
  );
}

/** The class a saved single-label label gives (its largest confidence), or undefined when unlabeled. */
export function labeledClass(sample: { label?: { confidences: number[] } }): number | undefined {
  const c = sample.label?.confidences;
  if (!c) return undefined;
  return c.indexOf(Math.max(...c));
}
