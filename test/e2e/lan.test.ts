// Winnow on one server for labelers on the team's network: `npm start -- --auth --host 0.0.0.0 --public-url URL`
// on a real non-loopback address of this machine. Tokens name the public URL as issuer, every URL a browser gets
// (images, thumbnails, uploads) is on that origin and works only with Winnow's own signature (any edit -> 403 JSON),
// no other origin is let in (CORS, CSP, Host), and the emulators are reachable neither from the network nor by an unsigned or
// wrongly signed request on loopback; the owner's per-start keys sit in stack.json (0600).

import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { addUser } from '../../functions/auth/users.js';
import { localTarget } from '../../functions/cli/stack-client.js';
import { parseLocalConfig } from '../../functions/local/config.js';
import type { StackInfo } from '../../functions/local/stack.js';
import { FLOWERS, REPO } from '../support/paths.js';
import { tempDir, waitFor } from '../support/stack.js';

const PASSWORD = 'Labelers-on-the-LAN-2026';

/** An IPv4 address of this machine that is not loopback (the address labelers on the network would use). */
function lanAddress(): string | undefined {
  return Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '0.0.0.0', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Whether a TCP connection to host:port is accepted. */
function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(2000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

/** A GET with a Host header of our choosing (fetch would not send one). */
function rawGet(host: string, port: number, route: string, hostHeader: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: route, headers: { host: hostHeader } }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
  });
}

const address = lanAddress();
if (!address && process.env.CI) throw new Error('the LAN test needs a non-loopback IPv4 address on this machine');

describe.skipIf(!address)('Winnow for a team on a LAN (--auth --host 0.0.0.0 --public-url)', () => {
  let child: ChildProcess | undefined;
  afterAll(() => child?.kill('SIGTERM'));

  it('refuses a wildcard bind without a public URL, and a public URL without sign-in', () => {
    expect(() => parseLocalConfig(['--auth', '--host', '0.0.0.0'], {})).toThrow(/--public-url/);
    expect(() => parseLocalConfig(['--public-url', 'http://winnow.lan:8787'], {})).toThrow(/without sign-in/);
    expect(() => parseLocalConfig(['--auth', '--host', '0.0.0.0', '--public-url', 'http://winnow.lan:8787/app?x'], {})).toThrow(/origin without path/);
    expect(parseLocalConfig(['--auth', '--host', '0.0.0.0'], { WINNOW_PUBLIC_URL: 'http://winnow.lan:8787/' }).publicUrl).toBe('http://winnow.lan:8787');
  });

  it('serves the public origin only, with signed file URLs, and keeps the emulators to itself', async () => {
    const dataDir = await tempDir('lan');
    await addUser(dataDir, { username: 'owner', password: PASSWORD, groups: ['admin'] });
    const port = await freePort();
    const publicUrl = `http://${address}:${port}`;
    const args = ['--auth', '--host', '0.0.0.0', '--port', String(port), '--s3-port', '0', '--dynamodb-port', '0', '--public-url', publicUrl, '--data', dataDir];
    child = spawn(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', path.join(REPO, 'functions/local/main.ts'), ...args], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PORT: '', WINNOW_PUBLIC_URL: '' },
    });
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready after 60 s:\n${output}`)), 60_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const m = /Winnow is running at (\S+)/.exec(output);
        if (m) (clearTimeout(timer), resolve(m[1]));
      };
      child!.stdout!.on('data', onData);
      child!.stderr!.on('data', onData);
      child!.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
    });
    expect(url).toBe(publicUrl);

    // Sign-in: the issuer is the public URL, and a token from it is what the API takes.
    const config = await (await fetch(`${publicUrl}/auth/config`)).json();
    expect(config.issuer).toBe(`${publicUrl}/auth`);
    const login = await fetch(`${publicUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'owner', password: PASSWORD }),
    });
    const { idToken } = (await login.json()) as { idToken: string };
    expect(JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString()).iss).toBe(`${publicUrl}/auth`);
    const auth = { authorization: `Bearer ${idToken}` };
    const api = async (method: string, route: string, body?: unknown) => {
      const res = await fetch(`${publicUrl}${route}`, {
        method,
        headers: { ...auth, ...(body ? { 'content-type': 'application/json' } : {}), origin: publicUrl },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, headers: res.headers, json: await res.json() };
    };

    // One origin: no other origin is allowed by CORS, and the page may connect to and load images from itself only.
    const page = await fetch(publicUrl);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("connect-src 'self';");
    expect(csp).toContain("img-src 'self' blob: data:;");
    expect(csp).not.toMatch(/127\.0\.0\.1|localhost/);
    const foreign = await fetch(`${publicUrl}/api/projects`, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'GET' } });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();

    // A page of another site whose name points at this server (DNS rebinding) gets no answer it could read.
    const rebound = await rawGet(address!, port, '/api/health', 'evil.example');
    expect(rebound.status).toBe(421);
    expect(JSON.parse(rebound.body)).toMatchObject({ code: 'misdirected', message: expect.stringContaining(publicUrl) });
    expect((await rawGet(address!, port, '/api/health', `127.0.0.1:${port}`)).status).toBe(200); // this machine

    // An upload from the browser goes to the public origin; Winnow streams it into the bucket and ingest takes it.
    expect((await api('POST', '/api/projects', { id: 'lan', classes: ['daisy', 'other'] })).status).toBe(201);
    const photo = await readFile(path.join(FLOWERS, 'daisy/100080576_f52e8ee070_n.jpg'));
    const granted = await api('POST', '/api/projects/lan/uploads', { files: [{ name: 'daisy 1.jpg', contentType: 'image/jpeg', bytes: photo.length }] });
    const [upload] = granted.json.uploads as { url: string; headers: Record<string, string> }[];
    expect(new URL(upload.url).origin).toBe(publicUrl);
    const tooBig = new URL(upload.url);
    tooBig.searchParams.set('max', String(10 ** 12));
    expect((await fetch(tooBig, { method: 'PUT', headers: upload.headers, body: photo })).status).toBe(403);
    const htmlUpload = await fetch(upload.url, { method: 'PUT', headers: { 'content-type': 'text/html' }, body: '<script>alert(1)</script>' });
    expect(htmlUpload.status).toBe(403);
    // Over the signed size limit (the grant's 64 MiB): 413 at once, without reading the body.
    const overLimit = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(upload.url, { method: 'PUT', headers: { ...upload.headers, 'content-length': String(64 * 1024 * 1024 + 1) } }, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => (resolve({ status: res.statusCode!, body }), req.destroy()));
      });
      req.on('error', reject);
      req.write(Buffer.alloc(64 * 1024));
    });
    expect(overLimit.status).toBe(413);
    expect(JSON.parse(overLimit.body)).toMatchObject({ code: 'payload_too_large', message: expect.stringMatching(/at most 67108864/) });
    expect((await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: photo })).status).toBe(200);
    await waitFor(async () => (await api('GET', '/api/projects/lan/progress')).json.images?.ready === 1, 'ingest of the upload');

    // Image URLs: on the public origin, served with a valid signature, as the type Winnow chose, never sniffed.
    const next = await api('GET', '/api/projects/lan/next?count=1');
    const image = next.json.samples?.[0]?.image;
    expect(image, JSON.stringify(next.json)).toBeTruthy();
    for (const u of [image.url, image.thumbUrl] as string[]) {
      expect(u.startsWith(`${publicUrl}/files/`)).toBe(true);
      const res = await fetch(u);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^image\/(jpeg|webp)$/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
    const signed = new URL(image.url);
    const edits: [string, (u: URL) => void][] = [
      ['garbage signature', (u) => u.searchParams.set('sig', 'A'.repeat(43))],
      ['no signature', (u) => u.searchParams.delete('sig')],
      ['content type edited to text/html', (u) => u.searchParams.set('ct', 'text/html')],
      ['content type edited to svg', (u) => u.searchParams.set('ct', 'image/svg+xml')],
      ['content type removed', (u) => u.searchParams.delete('ct')],
      ['expiry pushed out', (u) => u.searchParams.set('exp', String(Number(u.searchParams.get('exp')) + 3600))],
      ['another key', (u) => (u.pathname = u.pathname.replace(/display|[^/]+$/, 'thumb.webp'))],
      ['a download name added', (u) => u.searchParams.set('dl', 'x.html')],
    ];
    for (const [what, edit] of edits) {
      const u = new URL(signed);
      edit(u);
      const res = await fetch(u);
      expect(res.status, what).toBe(403);
      expect((await res.json()).code, what).toBe('forbidden');
    }
    // A GET URL does not upload.
    expect((await fetch(signed, { method: 'PUT', headers: { 'content-type': 'image/jpeg' }, body: photo })).status).toBe(403);

    // The emulators: loopback only, per-start keys the owner finds in stack.json (readable by the owner only).
    const infoFile = path.join(dataDir, 'stack.json');
    expect((await stat(infoFile)).mode & 0o777).toBe(0o600);
    const info = JSON.parse(await readFile(infoFile, 'utf8')) as StackInfo;
    expect(info.url).toBe(publicUrl);
    expect(info.credentials.accessKeyId).not.toBe('S3RVER');
    for (const endpoint of [info.s3Endpoint, info.dynamoEndpoint]) {
      const { hostname, port: p } = new URL(endpoint);
      expect(hostname).toBe('127.0.0.1');
      expect(await connects('127.0.0.1', Number(p))).toBe(true);
      expect(await connects(address!, Number(p)), `${endpoint} on ${address}`).toBe(false);
    }
    // Unsigned, or signed with the documented keys or a guessed secret: refused by both.
    expect((await fetch(`${info.s3Endpoint}/${info.bucket}/uploads/lan/daisy%201.jpg`)).status).toBe(403);
    expect((await fetch(info.dynamoEndpoint, { method: 'POST', headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables', 'content-type': 'application/x-amz-json-1.0' }, body: '{}' })).status).toBe(403);
    const clients = (credentials: { accessKeyId: string; secretAccessKey: string }) => ({
      dynamo: new DynamoDBClient({ region: info.region, endpoint: info.dynamoEndpoint, credentials, maxAttempts: 1 }),
      s3: new S3Client({ region: info.region, endpoint: info.s3Endpoint, forcePathStyle: true, credentials, maxAttempts: 1 }),
    });
    for (const wrong of [
      { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      { accessKeyId: info.credentials.accessKeyId, secretAccessKey: 'guessed' },
    ]) {
      const c = clients(wrong);
      await expect(c.dynamo.send(new ListTablesCommand({}))).rejects.toThrow();
      await expect(c.s3.send(new ListObjectsV2Command({ Bucket: info.bucket }))).rejects.toThrow();
      c.dynamo.destroy();
      c.s3.destroy();
    }
    const owner = clients(info.credentials);
    expect((await owner.dynamo.send(new ListTablesCommand({}))).TableNames?.length).toBeGreaterThan(0);
    expect((await owner.s3.send(new ListObjectsV2Command({ Bucket: info.bucket, Prefix: 'uploads/lan/' }))).Contents?.map((o) => o.Key)).toContain('uploads/lan/daisy 1.jpg');
    owner.dynamo.destroy();
    owner.s3.destroy();

    // The owner's CLI on the server (import, export) finds both in stack.json: the API on loopback with a token
    // the public issuer would sign, the S3 API with this start's keys.
    const cli = await localTarget(dataDir);
    expect(cli.apiUrl).toBe(`http://127.0.0.1:${port}`);
    const listed = await fetch(`${cli.apiUrl}/api/projects`, { headers: cli.headers });
    expect((await listed.json()).projects.map((p: { id: string }) => p.id)).toEqual(['lan']);
    await cli.s3.send(new PutObjectCommand({ Bucket: cli.bucket, Key: 'uploads/lan/from-cli.jpg', Body: photo, ContentType: 'image/jpeg' }));
    await waitFor(async () => (await api('GET', '/api/projects/lan/progress')).json.images?.ready === 2, 'ingest of the CLI upload');
    cli.s3.destroy();
  });
});
