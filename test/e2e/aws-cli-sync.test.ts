// Bulk upload with a real third-party S3 client: `aws s3 sync` into the embedded S3, then ingest. A non-image in
// the folder ends as a failed image with a reason; the rest are ready.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cp, mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../functions/local/stack.js';
import { FLOWERS } from '../support/paths.js';
import { requireTool } from '../support/require-tool.js';
import { apiClient, startTestStack, tempDir, waitFor } from '../support/stack.js';

const hasAws = requireTool('aws', 'the `aws s3 sync` import test needs the AWS CLI (apt-get install awscli)');

describe.runIf(hasAws)('aws s3 sync into the local stack', () => {
  let stack: LocalStack | undefined;
  afterAll(async () => stack?.close());

  it('ingests what the AWS CLI uploads, including files synced before the project existed', async () => {
    stack = await startTestStack(await tempDir('sync-data'));
    const dir = await tempDir('sync-photos');
    const tulips = (await readdir(path.join(FLOWERS, 'tulips'))).filter((f) => f.endsWith('.jpg')).slice(0, 3);
    await mkdir(path.join(dir, 'tulips'));
    for (const f of tulips) await cp(path.join(FLOWERS, 'tulips', f), path.join(dir, 'tulips', f));
    await writeFile(path.join(dir, 'readme.jpg'), 'not a photo at all');

    // Asynchronous on purpose: the S3 emulator runs in this process and must keep answering.
    const sync = await promisify(execFile)('aws', ['s3', 'sync', dir, `s3://${stack.bucket}/uploads/garden/`, '--endpoint-url', stack.s3Endpoint, '--no-progress'], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_DEFAULT_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(sync.stdout).toContain('upload:');
    await stack.ingest.idle();

    const api = apiClient(stack.url, 'owner');
    expect((await api('POST', '/api/projects', { id: 'garden', classes: ['tulip', 'other'] })).status).toBe(201);
    const progress = await waitFor(async () => {
      const p = await api('GET', '/api/projects/garden/progress');
      return p.json.images.pending === 0 && p.json.images.ready + p.json.images.failed === 4 && p;
    }, 'ingest of the synced files');
    expect(progress.json).toMatchObject({ total: 3, images: { ready: 3, failed: 1, pending: 0 } });
    const failed = await api('GET', '/api/projects/garden/images?status=failed');
    expect(failed.json.images).toHaveLength(1);
    expect(failed.json.images[0].key).toBe('uploads/garden/readme.jpg');
    expect(failed.json.images[0].reason).toMatch(/not an image|text/i);
  });
});
