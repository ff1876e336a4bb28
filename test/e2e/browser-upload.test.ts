// Uploads as the web app does them: the API hands out signed PUT URLs on its own origin, the browser PUTs each
// file there (Winnow streams it into the bucket), and ingest picks them up like any other upload.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../functions/local/stack.js';
import { FLOWERS } from '../support/paths.js';
import { apiClient, startTestStack, tempDir, waitFor } from '../support/stack.js';

describe('browser-style upload with presigned PUTs', () => {
  let stack: LocalStack | undefined;
  afterAll(async () => stack?.close());

  it('uploads through presigned URLs and ingests the files; refuses unsafe names and non-image types', async () => {
    stack = await startTestStack(await tempDir('upload'));
    const api = apiClient(stack.url, 'owner');
    await api('POST', '/api/projects', { id: 'web', classes: ['daisy', 'other'] });
    const photo = await readFile(path.join(FLOWERS, 'daisy/100080576_f52e8ee070_n.jpg'));
    const res = await api('POST', '/api/projects/web/uploads', { files: [{ name: 'field/daisy 1.jpg', contentType: 'image/jpeg', bytes: photo.length }] });
    expect(res.status).toBe(200);
    const [upload] = res.json.uploads;
    expect(upload.key).toBe('uploads/web/field/daisy 1.jpg');

    // The browser PUTs to the page's own origin (no CORS involved); Winnow checks the signature and streams to S3.
    expect(new URL(upload.url).origin).toBe(stack.url);
    const wrongType = await fetch(upload.url, { method: 'PUT', headers: { 'content-type': 'text/html' }, body: '<script>1</script>' });
    expect(wrongType.status).toBe(403);
    expect((await wrongType.json()).message).toMatch(/content-type image\/jpeg/);
    const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: photo });
    expect(put.status).toBe(200);

    const progress = await waitFor(async () => {
      const p = await api('GET', '/api/projects/web/progress');
      return p.json.images.ready === 1 && p.json;
    }, 'ingest of the uploaded file');
    expect(progress.total).toBe(1);

    const unsafe = await api('POST', '/api/projects/web/uploads', { files: [{ name: '../other/x.jpg', contentType: 'image/jpeg', bytes: 10 }] });
    expect(unsafe.status).toBe(400);
    expect(unsafe.json.message).toMatch(/not a safe relative path/);
    const svg = await api('POST', '/api/projects/web/uploads', { files: [{ name: 'x.svg', contentType: 'image/svg+xml', bytes: 10 }] });
    expect(svg.status).toBe(400);
    expect(svg.json.field).toBe('files.0.contentType');
  });
});
