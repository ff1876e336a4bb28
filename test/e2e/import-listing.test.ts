// `winnow import` of a whole folder asks the bucket what it already holds with one listing instead of a HEAD per
// file (a HEAD each cost the uploader and the S3 emulator a request per image), and still uploads exactly the files
// that are new or changed.

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { importFolder } from '../../functions/cli/import.js';
import { localTarget } from '../../functions/cli/stack-client.js';
import type { LocalStack } from '../../functions/local/stack.js';
import { startTestStack, tempDir } from '../support/stack.js';

const FILES = 120;

const square = (i: number, shade = 0) =>
  sharp({ create: { width: 64, height: 64, channels: 3, background: { r: i, g: 255 - i, b: shade } } }).png();

describe('import of a whole folder', () => {
  let stack: LocalStack | undefined;
  afterAll(async () => {
    await stack?.close();
  });

  it('checks the bucket with one listing, uploads every new file once, and on a re-run only the changed one', async () => {
    const dataDir = await tempDir('data');
    const photos = await tempDir('squares');
    await mkdir(path.join(photos, 'squares'));
    await Promise.all(Array.from({ length: FILES }, (_, i) => square(i).toFile(path.join(photos, 'squares', `${i}.png`))));
    stack = await startTestStack(dataDir);
    const target = await localTarget(dataDir);
    const sent: string[] = [];
    target.s3.middlewareStack.add((next, context) => (args) => (sent.push(context.commandName ?? '?'), next(args)), { step: 'initialize', name: 'countCommands' });
    const out = new PassThrough().resume();

    const first = await importFolder(target, { dir: photos, project: 'squares', classes: ['a', 'b'], concurrency: 8, wait: false, out: out as never });
    expect(first).toMatchObject({ uploaded: FILES, unchanged: 0, failed: [] });
    expect(sent.filter((c) => c === 'HeadObjectCommand')).toHaveLength(0);
    expect(sent.filter((c) => c === 'ListObjectsV2Command')).toHaveLength(1);

    await square(7, 200).toFile(path.join(photos, 'squares', '7.png'));
    sent.length = 0;
    const again = await importFolder(target, { dir: photos, project: 'squares', concurrency: 8, wait: true, out: out as never });
    expect(again).toMatchObject({ uploaded: 1, unchanged: FILES - 1, failed: [] });
    expect(sent.filter((c) => c === 'PutObjectCommand')).toHaveLength(1);
    expect(sent.filter((c) => c === 'HeadObjectCommand')).toHaveLength(0);
    target.s3.destroy();
  });
});
