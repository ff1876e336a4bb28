// How the CLI reaches a running Winnow: the local stack describes itself in `<data>/stack.json`.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../adapters/aws/clients.js';
import { openLocalIssuer } from '../auth/local-issuer.js';
import { listUsers } from '../auth/users.js';
import { LOCAL_CREDENTIALS, type StackInfo } from '../local/stack.js';

export interface Target {
  apiUrl: string;
  bucket: string;
  s3: S3Client;
  /** Identity header for the local stack (the cloud uses a bearer token instead). */
  headers: Record<string, string>;
}

/** The running stack that keeps its data in `dataDir` (the CLI's --data, else its configuration's: local/config.ts). */
export async function localTarget(dataDir: string, user = 'cli'): Promise<Target> {
  const dir = path.resolve(dataDir);
  let info: StackInfo;
  try {
    info = JSON.parse(await readFile(path.join(dir, 'stack.json'), 'utf8')) as StackInfo;
  } catch {
    throw new Error(`no running Winnow found in ${dir}: start it first with \`npm start\` (or pass --data DIR)`);
  }
  // The public URL may be a name only labelers' machines resolve; this machine uses the listening address.
  const apiUrl = info.localUrl ?? info.url;
  const health = await fetch(`${apiUrl}/api/health`).catch(() => undefined);
  if (!health?.ok) throw new Error(`Winnow at ${apiUrl} is not answering: start it with \`npm start\``);
  // The stack's own S3 client settings (path-style, checksums s3rver takes, cached signing keys, no logger).
  // With sign-in on, the emulators take only this start's keys (stack.json is readable by its owner only).
  const s3 = createS3Client({ region: info.region, endpoint: info.s3Endpoint, credentials: info.credentials ?? LOCAL_CREDENTIALS });
  return { apiUrl, bucket: info.bucket, s3, headers: await identityHeaders(dir, info, user) };
}

/**
 * Without sign-in, a name header. With sign-in, whoever can read the data folder is the machine's admin already
 * (it holds the signing key), so the CLI signs a short-lived token for a local admin itself.
 */
async function identityHeaders(dataDir: string, info: StackInfo, user: string): Promise<Record<string, string>> {
  if (!info.auth) return { 'x-winnow-user': encodeURIComponent(user) };
  const admins = (await listUsers(dataDir)).filter((u) => u.groups.includes('admin'));
  const chosen = admins.find((u) => u.username === user) ?? admins[0];
  if (!chosen) throw new Error('sign-in is on but there is no admin yet: npm run winnow -- users add NAME --admin');
  const issuer = await openLocalIssuer({ dataDir, origin: info.url, tokenTtlSeconds: 900 });
  return { authorization: `Bearer ${await issuer.issueIdToken(chosen)}` };
}

export async function api<T>(target: Target, method: string, route: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${target.apiUrl}${route}`, {
    method,
    headers: { ...target.headers, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}
