// Starts the real local stack (dynalite + s3rver + API + ingest with the real ONNX models) in a temp folder.

import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ImageAnalyzer } from '../../functions/domain/ports.js';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../functions/local/stack.js';
import { createImageAnalyzer } from '../../functions/vision/analyzer.js';
import { MODELS } from './paths.js';

let analyzer: Promise<ImageAnalyzer> | undefined;
/** One analyzer per test process: ONNX sessions are created once and reused, as in the product. */
export const sharedAnalyzer = () => (analyzer ??= createImageAnalyzer({ modelDir: MODELS }));

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `winnow-${prefix}-`));
}

export async function startTestStack(dataDir: string, opts: Partial<LocalStackOptions> = {}): Promise<LocalStack> {
  return startLocalStack({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    s3Port: 0,
    dynamoPort: 0,
    analyzer: await sharedAnalyzer(),
    log: () => undefined,
    ...opts,
  });
}

export function apiClient(base: string, user: string) {
  return async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${base}${route}`, {
      method,
      headers: { 'x-winnow-user': user, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, json: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
  };
}

/** Polls until `check` returns a truthy value (for work that finishes in the background, e.g. ingest). */
export async function waitFor<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
