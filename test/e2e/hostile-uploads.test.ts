// Hostile uploads on the real local stack (dynalite, s3rver, ingest with the ONNX models), through the three ways
// images arrive: the S3 API (AWS SDK PutObject), a presigned PUT as the web app makes it (the uploads route), and
// the CLI import as a user runs it. Names with `% + # ? & ;`, spaces, unicode, `../` and keys of 1024 bytes;
// contents that are bombs, truncated, SVG, HTML, polyglots or empty. The server stays up, every good file is
// ingested, every bad file ends failed with a reason the owner sees (images route) or is refused with one, each
// upload leaves a log line, and nothing is ever served as markup (issue 12).

import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { crc32, deflateSync } from 'node:zlib';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../functions/local/stack.js';
import { FLOWERS, REPO } from '../support/paths.js';
import { apiClient, startTestStack, tempDir, waitFor } from '../support/stack.js';

const HTML = '<!DOCTYPE html><html><body><script>document.title="pwned"</script></body></html>';
const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>';

/** A PNG built by hand: any size the header claims, rows of zeros (compresses ~1000:1). */
function png(width: number, height: number, bitDepth: number, colorType: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(bitDepth, 8);
  ihdr.writeUInt8(colorType, 9);
  const channels = colorType === 2 ? 3 : 1;
  const rowBytes = 1 + Math.ceil((width * channels * bitDepth) / 8);
  const raw = Buffer.alloc(rowBytes * height); // filter byte 0, all pixels 0
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A GIF whose screen and only frame claim 65535x65535 pixels, in 43 bytes. */
const GIF_BOMB = Buffer.from([
  ...Buffer.from('GIF89a'), 0xff, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, // screen, 2-colour table
  0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, // graphic control
  0x2c, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b, // frame, trailer
]);

interface Contents {
  photo: Buffer;
  png: Buffer;
  pixelBomb: Buffer;
  zipBomb: Buffer;
  truncatedJpeg: Buffer;
  truncatedPng: Buffer;
  gifHtml: Buffer;
  jpegHtml: Buffer;
}

async function contents(): Promise<Contents> {
  const photo = await readFile(path.join(FLOWERS, 'daisy/100080576_f52e8ee070_n.jpg'));
  const pngBytes = await sharp(photo).resize(160).png().toBuffer();
  return {
    photo,
    png: pngBytes,
    pixelBomb: png(7000, 7000, 1, 0), // 49 MP claimed in a few KB: above the 40 MP limit
    zipBomb: png(5000, 5000, 8, 2), // 25 MP RGB, 75 MB of pixels in ~75 KB: under the limit, a valid (black) image
    truncatedJpeg: photo.subarray(0, Math.floor(photo.length * 0.6)),
    truncatedPng: pngBytes.subarray(0, Math.floor(pngBytes.length * 0.5)),
    gifHtml: Buffer.concat([await sharp(photo).resize(64).gif().toBuffer(), Buffer.from(HTML)]),
    jpegHtml: Buffer.concat([photo, Buffer.from(HTML)]),
  };
}

/** A key of exactly 1024 bytes (S3's limit) under `prefix`, in parts short enough for a file system. */
function longName(prefix: string, ext: string): string {
  const dirs = ('y'.repeat(200) + '/').repeat(4);
  return dirs + 'z'.repeat(1024 - Buffer.byteLength(prefix) - dirs.length - ext.length) + ext;
}

type Expect = { status: 'ready' } | { status: 'failed'; reason: RegExp };
const READY: Expect = { status: 'ready' };
const failed = (reason: RegExp): Expect => ({ status: 'failed', reason });

const winnow = (args: string[]) =>
  promisify(execFile)(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', path.join(REPO, 'functions/cli/main.ts'), ...args], { cwd: REPO, timeout: 120_000 })
    .then((r) => ({ code: 0, out: r.stdout + r.stderr }))
    .catch((e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }));

describe('hostile uploads on the local stack', { timeout: 90_000 }, () => {
  let stack: LocalStack;
  let dataDir: string;
  let c: Contents;
  let s3: S3Client;
  const lines: string[] = [];
  const owner = () => apiClient(stack.url, 'owner');

  beforeAll(async () => {
    dataDir = await tempDir('hostile');
    c = await contents();
    stack = await startTestStack(dataDir, { log: (line) => lines.push(line) });
    // The S3 API as a user reaches it: endpoint and keys from the stack's description of itself.
    const info = JSON.parse(await readFile(path.join(dataDir, 'stack.json'), 'utf8'));
    const credentials = info.credentials ?? { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
    s3 = new S3Client({ region: info.region, endpoint: info.s3Endpoint, forcePathStyle: true, credentials, maxAttempts: 1 });
    expect((await owner()('POST', '/api/projects', { id: 'hostile', classes: ['a', 'b'] })).status).toBe(201);
  });
  afterAll(async () => {
    s3?.destroy();
    await stack?.close();
  });

  /** Every image of a project by key, once none is pending and `keys` are all known. */
  async function imagesOf(project: string, keys: string[]) {
    type Image = { imageId: string; key: string; status: string; reason?: string; url: string; thumbUrl: string };
    return waitFor(async () => {
      const res = await owner()('GET', `/api/projects/${project}/images?limit=500`);
      const images = new Map<string, Image>((res.json.images as Image[]).map((i) => [i.key, i]));
      return keys.every((k) => images.get(k) && images.get(k)!.status !== 'pending') && images;
    }, `ingest of ${keys.length} uploads in ${project}`, 90_000);
  }

  /** The server is up: the API answers, and the S3 emulator lists the bucket. */
  async function serverIsUp() {
    expect((await fetch(`${stack.url}/api/health`)).status).toBe(200);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: 'uploads/', MaxKeys: 1 }));
    expect(listed.$metadata.httpStatusCode).toBe(200);
  }

  /** Every URL the owner is given for these images is served as a raster image (or not at all), never as markup. */
  async function neverMarkup(project: string, images: Iterable<{ imageId: string; status: string; url: string; thumbUrl: string }>) {
    for (const image of images) {
      const urls = [image.url, image.thumbUrl];
      const file = await fetch(`${stack.url}/api/projects/${project}/images/${image.imageId}/file`, { headers: { 'x-winnow-user': 'owner' }, redirect: 'manual' });
      if (file.status === 302) urls.push(file.headers.get('location')!);
      else expect(file.status, `file of ${image.imageId}`).toBe(404);
      for (const url of urls) {
        const res = await fetch(url);
        const type = res.headers.get('content-type') ?? '';
        await res.arrayBuffer();
        expect(type, `${url} of a ${image.status} image`).not.toMatch(/html|svg|javascript|xml\+|text\/plain/i);
        if (res.ok) expect(type, url).toMatch(/^image\/(jpeg|png|webp)$/);
        else expect(res.status, url).toBe(404);
      }
    }
  }

  async function expectOutcomes(images: Map<string, { status: string; reason?: string }>, expected: Record<string, Expect>) {
    for (const [key, want] of Object.entries(expected)) {
      const image = images.get(key);
      expect(image?.status, key).toBe(want.status);
      if (want.status === 'failed') expect(image?.reason, key).toMatch(want.reason);
      // Each upload leaves a line in the server log naming it (written just after the image's final record).
      const logged = () => lines.some((l) => l.includes(JSON.stringify(key)));
      for (let i = 0; i < 100 && !logged(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(logged(), `log line for ${key}`).toBe(true);
    }
  }

  it('through the S3 API: hostile names are ingested under their real keys, hostile contents fail with a reason', async () => {
    const p = 'uploads/hostile/s3/';
    const files: [string, Buffer, string, Expect][] = [
      ['c+d.jpg', c.photo, 'image/jpeg', READY],
      ['50% off.jpg', c.photo, 'image/jpeg', READY],
      ['100%.jpg', c.photo, 'image/jpeg', READY],
      ['..%2f..%2fetc%2fpasswd.jpg', c.photo, 'image/jpeg', READY],
      ['a#b?c&d;e f.jpg', c.photo, 'image/jpeg', READY],
      ['straße 日本語 🌼.jpg', c.photo, 'image/jpeg', READY],
      [longName(p, '.jpg'), c.photo, 'image/jpeg', READY],
      ['polyglot.jpg', c.jpegHtml, 'text/html', READY], // a valid JPEG: shown, but only ever as an image
      ['polyglot.gif', c.gifHtml, 'text/html', READY],
      ['zip-bomb.png', c.zipBomb, 'image/png', READY],
      ['pixel-bomb.png', c.pixelBomb, 'image/png', failed(/7000x7000 = 49 MP, above the 40 MP limit/)],
      ['gif-bomb.gif', GIF_BOMB, 'image/gif', failed(/65535x65535 = 4295 MP, above the 40 MP limit/)],
      ['truncated.jpg', c.truncatedJpeg, 'image/jpeg', failed(/truncated JPEG|damaged JPEG/)],
      ['truncated.png', c.truncatedPng, 'image/png', failed(/truncated PNG|damaged PNG/)],
      ['drawing.svg', Buffer.from(SVG), 'image/svg+xml', failed(/SVG/)],
      ['page.jpg', Buffer.from(HTML), 'text/html', failed(/HTML page/)],
      ['empty.png', Buffer.alloc(0), 'image/png', failed(/empty file \(0 bytes\)/)],
    ];
    for (const [name, body, type] of files) await s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: p + name, Body: body, ContentType: type }));
    // Keys the local emulator cannot store as files are refused with an S3 error; the server stays up.
    for (const name of ['../escape.jpg', 'a/../../../../outside.jpg', 'x'.repeat(300) + '.jpg']) {
      const err = await s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: p + name, Body: c.photo, ContentType: 'image/jpeg' })).catch((e: Error) => e);
      expect(err, name).toBeInstanceOf(Error);
      expect((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, name).toBe(400);
    }
    const images = await imagesOf('hostile', files.map(([name]) => p + name));
    await expectOutcomes(images, Object.fromEntries(files.map(([name, , , want]) => [p + name, want])));
    await serverIsUp();
    await neverMarkup('hostile', [...images.values()].filter((i) => i.key.startsWith(p)));
  });

  it('through presigned PUTs as the web app makes them: same names and contents; bad requests are refused with the reason', async () => {
    const p = 'uploads/hostile/web/';
    const files: [string, Buffer, string, Expect][] = [
      ['web/c+d.png', c.png, 'image/png', READY],
      ['web/sale 50% off.png', c.png, 'image/png', READY],
      ['web/100%.png', c.png, 'image/png', READY],
      ['web/..%2f..%2fetc%2fpasswd.png', c.png, 'image/png', READY],
      ['web/a#b?c&d;e.png', c.png, 'image/png', READY],
      ['web/日本語 🌼.png', c.png, 'image/png', READY],
      ['web/polyglot.gif', c.gifHtml, 'image/gif', READY],
      ['web/pixel-bomb.png', c.pixelBomb, 'image/png', failed(/above the 40 MP limit/)],
      ['web/truncated.jpg', c.truncatedJpeg, 'image/jpeg', failed(/truncated JPEG|damaged JPEG/)],
      ['web/drawing.png', Buffer.from(SVG), 'image/png', failed(/SVG/)],
      ['web/page.png', Buffer.from(HTML), 'image/png', failed(/HTML page/)],
    ];
    const grant = await owner()('POST', '/api/projects/hostile/uploads', {
      files: files.map(([name, body, contentType]) => ({ name, contentType, bytes: body.length })),
    });
    expect(grant.status).toBe(200);
    const urls = new Map<string, { url: string; key: string; headers: Record<string, string> }>(grant.json.uploads.map((u: { name: string }) => [u.name, u]));
    for (const [name, body] of files) {
      const u = urls.get(name)!;
      expect(u.key).toBe(`uploads/hostile/${name}`);
      const put = await fetch(u.url, { method: 'PUT', headers: u.headers, body: new Uint8Array(body) });
      expect(put.status, name).toBe(200);
    }
    // A URL granted for an image cannot store a page: the content type is signed.
    const html = urls.get('web/c+d.png')!;
    const asHtml = await fetch(html.url, { method: 'PUT', headers: { 'content-type': 'text/html' }, body: HTML });
    expect(asHtml.status).toBe(403);
    // Names and types the route refuses, each with a JSON body naming the problem.
    for (const [file, problem] of [
      [{ name: '../escape.png', contentType: 'image/png', bytes: 10 }, /not a safe relative path/],
      [{ name: 'a/./b.png', contentType: 'image/png', bytes: 10 }, /not a safe relative path/],
      [{ name: 'page.html', contentType: 'text/html', bytes: 10 }, /contentType|content type|image\/jpeg/i],
      [{ name: 'drawing.svg', contentType: 'image/svg+xml', bytes: 10 }, /contentType|content type|image\/jpeg/i],
      [{ name: 'empty.png', contentType: 'image/png', bytes: 0 }, /bytes|too small|>=1|at least/i],
      [{ name: 'n'.repeat(600) + '.png', contentType: 'image/png', bytes: 10 }, /name|too long|at most|<=512/i],
    ] as const) {
      const refused = await owner()('POST', '/api/projects/hostile/uploads', { files: [file] });
      expect(refused.status, file.name.slice(0, 40)).toBe(400);
      expect(JSON.stringify(refused.json), file.name.slice(0, 40)).toMatch(problem);
    }
    const images = await imagesOf('hostile', files.map(([name]) => `uploads/hostile/${name}`));
    await expectOutcomes(images, Object.fromEntries(files.map(([name, , , want]) => [`uploads/hostile/${name}`, want])));
    expect(images.get('uploads/hostile/web/c+d.png')?.status).toBe('ready'); // the refused overwrite changed nothing
    await serverIsUp();
    await neverMarkup('hostile', [...images.values()].filter((i) => i.key.startsWith(p)));
  });

  it('through the CLI import: names with % and friends are uploaded and ingested, bad files are named with the reason', async () => {
    const dir = await tempDir('hostile-cli');
    const long = longName('uploads/cli-hostile/', '.jpg');
    const files: [string, Buffer, Expect | { skipped: RegExp }][] = [
      ['sale 100%.png', c.png, READY],
      ['c+d.jpg', c.photo, READY],
      ['#?&; x.jpg', c.photo, READY],
      ['%2e%2e%2f..%2fetc%2fpasswd.jpg', c.photo, READY],
      ['..%2f..%2fetc%2fpasswd.jpg', c.photo, { skipped: /hidden file/ }], // a name starting with '.' is a hidden file
      ['ünïcødé 🌼.jpg', c.photo, READY],
      [long, c.photo, READY],
      ['polyglot.jpg', c.jpegHtml, READY],
      ['pixel-bomb.png', c.pixelBomb, failed(/above the 40 MP limit/)],
      ['truncated.jpg', c.truncatedJpeg, failed(/truncated JPEG|damaged JPEG/)],
      ['drawing.svg', Buffer.from(SVG), { skipped: /SVG/ }],
      ['page.html', Buffer.from(HTML), { skipped: /HTML page/ }],
      ['empty.png', Buffer.alloc(0), { skipped: /empty file/ }],
    ];
    for (const [name, body] of files) {
      await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      await writeFile(path.join(dir, name), body);
    }
    const run = await winnow(['import', dir, '--project', 'cli-hostile', '--classes', 'a,b', '--data', dataDir]);
    expect(run.out).toContain('uploaded 9, unchanged 0, skipped 4, failed 0');
    expect(run.code).toBe(0);
    for (const [name, , want] of files) {
      if ('skipped' in want) expect(run.out).toMatch(new RegExp(`skipped ${name.replace(/\./g, '\\.')}: .*${want.skipped.source}`));
      else if (want.status === 'failed') expect(run.out).toContain(`ingest failed uploads/cli-hostile/${name}: `);
    }
    const expected = Object.fromEntries(files.flatMap(([name, , want]) => ('skipped' in want ? [] : [[`uploads/cli-hostile/${name}`, want]])));
    const images = await imagesOf('cli-hostile', Object.keys(expected));
    expect(images.size).toBe(Object.keys(expected).length);
    await expectOutcomes(images, expected);
    await serverIsUp();
    await neverMarkup('cli-hostile', images.values());
  });
});
