// A local issuer served over real HTTP on loopback, in a throwaway data folder, as `npm start --auth` would run it.

import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { openLocalIssuer, type LocalIssuer, type LocalIssuerOptions } from '../../functions/auth/local-issuer.js';
import { createAuthRoutes } from '../../functions/auth/routes.js';

const folders: string[] = [];

export async function tempDataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'winnow-auth-'));
  folders.push(dir);
  return dir;
}

export async function removeTempDataDirs(): Promise<void> {
  await Promise.all(folders.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

export interface ServedIssuer {
  issuer: LocalIssuer;
  origin: string;
  close(): Promise<void>;
}

/** Listens first (port 0), then opens the issuer with the origin it got, as the local server does. */
export async function serveIssuer(
  dataDir: string,
  options: Omit<LocalIssuerOptions, 'dataDir' | 'origin'> = {},
): Promise<ServedIssuer> {
  let routes: ReturnType<typeof createAuthRoutes> | undefined;
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: (req, env) => routes!.fetch(req, env), port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = await openLocalIssuer({ dataDir, origin, ...options });
  routes = createAuthRoutes(issuer);
  return {
    issuer,
    origin,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function login(origin: string, username: string, password: string) {
  const response = await fetch(`${origin}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  return { status: response.status, headers: response.headers, json: (await response.json()) as any };
}

export const bearer = (token: string) =>
  new Request('http://127.0.0.1/api/projects', { headers: { authorization: `Bearer ${token}` } });
