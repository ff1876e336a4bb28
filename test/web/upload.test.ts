// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { runUploads, toUploadItems, totals, UploadHttpError, type UploadItem } from '../../web/src/upload/upload.js';
import type { UploadGrant } from '../../web/src/api/types.js';

const file = (name: string, size = 1000, type = '') => ({ name, file: new Blob([new Uint8Array(size)], { type }) });

function deps(overrides: Partial<Parameters<typeof runUploads>[1]> = {}) {
  const grants: string[][] = [];
  const puts: string[] = [];
  const snapshots: ReturnType<typeof totals>[] = [];
  return {
    grants,
    puts,
    snapshots,
    deps: {
      grant: async (files: { name: string }[]): Promise<UploadGrant[]> => {
        grants.push(files.map((f) => f.name));
        return files.map((f) => ({ name: f.name, url: `http://bucket.test/${f.name}?sig=${grants.length}`, key: `uploads/p/${f.name}` }));
      },
      put: async (url: string, item: UploadItem, onProgress: (n: number) => void) => {
        puts.push(url);
        onProgress(item.bytes / 2);
        onProgress(item.bytes);
      },
      onUpdate: (items: UploadItem[]) => snapshots.push(totals(items)),
      sleep: async () => {},
      ...overrides,
    },
  };
}

describe('browser uploads', () => {
  it('keeps only images, guessing the type from the extension when the browser gives none', () => {
    const { items, skipped } = toUploadItems([file('daisy/1.jpg'), file('notes.txt', 10, 'text/plain'), file('rose/2.PNG')]);
    expect(items.map((i) => [i.name, i.contentType])).toEqual([
      ['daisy/1.jpg', 'image/jpeg'],
      ['rose/2.PNG', 'image/png'],
    ]);
    expect(skipped).toEqual(['notes.txt']);
  });

  it('uploads every file with presigned URLs requested in batches, reporting progress up to 100%', async () => {
    const { items } = toUploadItems(Array.from({ length: 7 }, (_, i) => file(`f${i}.jpg`, 100)));
    const t = deps({ batchSize: 3, concurrency: 2 });
    await runUploads(items, t.deps);
    expect(items.every((i) => i.state === 'done')).toBe(true);
    expect(t.grants.map((g) => g.length)).toEqual([3, 3, 1]);
    expect(t.puts).toHaveLength(7);
    expect(t.snapshots.at(-1)).toMatchObject({ done: 7, failed: 0, sent: 700, bytes: 700 });
    // Progress never goes backwards overall once files finish.
    expect(t.snapshots.some((s) => s.sent > 0 && s.sent < 700)).toBe(true);
  });

  it('retries a failed PUT, re-granting a URL the bucket refused, and lists files that keep failing', async () => {
    const { items } = toUploadItems([file('ok.jpg'), file('flaky.jpg'), file('broken.jpg')]);
    let flaky = 0;
    const t = deps({
      attempts: 3,
      put: async (url, item, onProgress) => {
        if (item.name === 'flaky.jpg' && flaky++ === 0) throw new UploadHttpError(403); // expired URL
        if (item.name === 'broken.jpg') throw new Error('network error during upload');
        onProgress(item.bytes);
      },
    });
    await runUploads(items, t.deps);
    expect(items.map((i) => [i.name, i.state])).toEqual([
      ['ok.jpg', 'done'],
      ['flaky.jpg', 'done'],
      ['broken.jpg', 'failed'],
    ]);
    expect(items[2]).toMatchObject({ attempts: 3, error: 'network error during upload' });
    // The refused URL was replaced by a fresh grant for that file.
    expect(t.grants.some((g) => g.length === 1 && g[0] === 'flaky.jpg')).toBe(true);

    // "Retry failed" runs only what is not done.
    const again = deps();
    await runUploads(items, again.deps);
    expect(again.grants).toEqual([['broken.jpg']]);
    expect(items[2].state).toBe('done');
  });

  it('fails every file with a clear reason when the server has no upload endpoint', async () => {
    const { items } = toUploadItems([file('a.jpg'), file('b.jpg')]);
    await runUploads(items, deps({ grant: async () => undefined }).deps);
    expect(items.map((i) => i.state)).toEqual(['failed', 'failed']);
    expect(items[0].error).toContain('CLI import');
  });
});
