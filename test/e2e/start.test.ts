// `npm start` as a newcomer runs it: a child process, ready quickly, serving the web app and API on one origin,
// and keeping data across a restart; killed with SIGKILL, it leaves no emulator or trainer process behind.

import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { portIsFree, startNpm } from '../support/npm-start.js';
import { FLOWERS, REPO } from '../support/paths.js';
import { tempDir, waitFor } from '../support/stack.js';

const start = (dataDir: string, extra: string[] = []) => startNpm(dataDir, extra);

/** Every process below `pid` (Linux /proc). */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parentOf) if (parent === p) (found.push(child), walk(child));
  };
  walk(pid);
  return found;
}

/** Running (a zombie waiting for its reaper has let go of everything). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function commandOf(pid: number, max = 120): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').slice(0, max);
  } catch {
    return '';
  }
}

/** Which of the stack's children a process is, from its command line. */
function kindOf(pid: number): string {
  const cmd = commandOf(pid, 100_000);
  return /WINNOW_DYNALITE_PATH|dynalite/.test(cmd) ? 'dynalite' : /S3rver|s3rver/.test(cmd) ? 's3rver' : /trainer-process/.test(cmd) ? 'trainer' : cmd.slice(0, 80);
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe('npm start', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
  });

  it('serves the web app and the API on one origin, stops cleanly and restarts with its data', async () => {
    const dataDir = await tempDir('start');
    const first = await start(dataDir);
    children.push(first.child);
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const page = await fetch(first.url);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('<div id="app"');
    const unknown = await fetch(`${first.url}/api/no-such-route`, { headers: { 'x-winnow-user': 'owner' } });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).code).toBe('not_found');
    const created = await fetch(`${first.url}/api/projects`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-winnow-user': 'owner' },
      body: JSON.stringify({ id: 'birds', classes: ['finch', 'robin'] }),
    });
    expect(created.status).toBe(201);
    expect(await stop(first.child)).toBe(0);

    const second = await start(dataDir);
    children.push(second.child);
    const res = await fetch(`${second.url}/api/projects/birds`, { headers: { 'x-winnow-user': 'owner' } });
    expect((await res.json()).project.classes).toEqual(['finch', 'robin']);
    console.log(`npm start ready in ${first.readyMs} ms (first), ${second.readyMs} ms (restart)`);
  });

  it('starts without model weights, naming each missing file, its sha256 and where to get it', async () => {
    const started = await start(await tempDir('nomodels-data'), ['--models', await tempDir('nomodels')]);
    children.push(started.child);
    const out = started.output();
    expect(out).toMatch(/model missing: .*mobilenetv2-12-int8-features\.onnx.*96e29fd69d58b73bcb0d8371945672e357865b0925793bf3b29d095ce7430459.*get it from/);
    expect(out).toMatch(/model missing: .*yolox_nano\.onnx.*d39bee73564e338080378b0ad567fbb40e818b55bbfaf971de82a0267ed16b8a.*https:\/\/github\.com\//);
    expect((await fetch(`${started.url}/api/health`)).status).toBe(200);
  });

  it('leaves no child process and no port behind when killed with SIGKILL', async () => {
    const dataDir = await tempDir('sigkill');
    const started = await start(dataDir);
    children.push(started.child);
    const pid = started.child.pid!;
    // Make the trainer process start too (it is spawned on the first retrain or similarity lookup): one image in.
    const h = { 'content-type': 'application/json', 'x-winnow-user': 'owner' };
    const call = async (method: string, route: string, body?: unknown) =>
      (await fetch(`${started.url}${route}`, { method, headers: h, body: body ? JSON.stringify(body) : undefined })).json();
    await call('POST', '/api/projects', { id: 'k', classes: ['a', 'b'] });
    const photo = await readFile(path.join(FLOWERS, 'daisy/100080576_f52e8ee070_n.jpg'));
    const { uploads } = await call('POST', '/api/projects/k/uploads', { files: [{ name: 'a.jpg', contentType: 'image/jpeg', bytes: photo.length }] });
    await fetch(uploads[0].url, { method: 'PUT', headers: uploads[0].headers, body: photo });
    const sampleId = await waitFor(async () => (await call('GET', '/api/projects/k/next?count=1')).samples?.[0]?.sample.sampleId, 'the sample');
    await call('GET', `/api/projects/k/samples/${sampleId}/similar`);
    const info = JSON.parse(await readFile(path.join(dataDir, 'stack.json'), 'utf8')) as { url: string; s3Endpoint: string; dynamoEndpoint: string };
    const ports = [info.url, info.s3Endpoint, info.dynamoEndpoint].map((u) => Number(new URL(u).port));
    const kids = await waitFor(async () => {
      const found = descendants(pid);
      return found.map(kindOf).includes('trainer') && found;
    }, 'the trainer process', 20_000);
    expect(kids.map(kindOf)).toEqual(expect.arrayContaining(['dynalite', 's3rver', 'trainer']));

    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && (kids.some(alive) || !(await Promise.all(ports.map(portIsFree))).every(Boolean))) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(kids.filter(alive).map((k) => `${k} ${kindOf(k)}`)).toEqual([]);
    expect(await Promise.all(ports.map(portIsFree))).toEqual(ports.map(() => true));
  });

  it('refuses to bind beyond loopback without sign-in', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'functions/local/main.ts'), '--host', '0.0.0.0', '--port', '0', '--data', await tempDir('bind')], {
      cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let err = '';
    child.stderr!.on('data', (c) => (err += c));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(err).toContain('refusing to bind to 0.0.0.0');
  });
});
