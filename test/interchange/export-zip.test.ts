// The streaming ZIP writer behind every archive export: readable by fflate and Info-ZIP, deflated text and stored
// images, Zip64 past 65,535 entries (where fflate's own writer would produce a corrupt archive), and names that
// cannot escape the folder they are extracted into.

import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { zipArchive } from '../../functions/adapters/export/zip.js';
import type { ObjectSink } from '../../functions/domain/interchange/export/ports.js';
import { toolAvailable } from '../support/require-tool.js';

function memorySink(): ObjectSink & { bytes(): Uint8Array; writes: number } {
  const parts: Uint8Array[] = [];
  const sink = {
    writes: 0,
    async write(chunk: Uint8Array) {
      sink.writes++;
      parts.push(chunk.slice());
    },
    async close() {},
    async abort() {},
    bytes: () => Buffer.concat(parts),
  };
  return sink;
}

/** Info-ZIP's own integrity test, when this machine has it (fflate is the reader every run uses). */
async function unzipTest(bytes: Uint8Array): Promise<void> {
  if (!toolAvailable('unzip', ['-v'])) return;
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'winnow-zip-')), 'a.zip');
  await writeFile(file, bytes);
  const run = spawnSync('unzip', ['-tq', file], { encoding: 'utf8' });
  expect(run.stdout + run.stderr).toMatch(/No errors detected/);
}

describe('zip archive', () => {
  it('writes text deflated and images stored, streamed from strings and async chunks', async () => {
    const sink = memorySink();
    const zip = zipArchive(sink, { mtime: new Date('2025-03-01T10:00:00Z') });
    const text = 'filename,bbox\n'.repeat(100_000); // 1.4 MB: streamed through the compressor
    const small = 'a,b\n'.repeat(100); // deflated in one call
    await zip.add('labels.csv', text);
    async function* parts() {
      yield new Uint8Array([0xff, 0xd8, 0xff]);
      yield 'tail';
    }
    await zip.add('images/a/b.jpg', parts(), { store: true });
    await zip.add('empty.txt', '');
    await zip.add('small.csv', small);
    await zip.finish();
    const bytes = sink.bytes();
    const files = unzipSync(bytes);
    expect(Object.keys(files)).toEqual(['labels.csv', 'images/a/b.jpg', 'empty.txt', 'small.csv']);
    expect(Buffer.from(files['small.csv']).toString()).toBe(small);
    expect(Buffer.from(files['labels.csv']).toString()).toBe(text);
    expect([...files['images/a/b.jpg']]).toEqual([0xff, 0xd8, 0xff, ...Buffer.from('tail')]);
    expect(files['empty.txt'].length).toBe(0);
    expect(bytes.length).toBeLessThan(text.length / 10); // the CSV was compressed
    await unzipTest(bytes);
  });

  it('writes Zip64 records past 65,535 entries, and every entry reads back', async () => {
    const sink = memorySink();
    const zip = zipArchive(sink);
    const n = 70_000;
    for (let i = 0; i < n; i++) await zip.add(`labels/${i}.txt`, `${i}\n`, { store: true });
    await zip.finish();
    const bytes = sink.bytes();
    // A zip64 end-of-central-directory record and its locator precede the classic end record.
    const tail = Buffer.from(bytes.subarray(bytes.length - 22 - 20 - 56));
    expect(tail.readUInt32LE(0)).toBe(0x06064b50);
    expect(Number(tail.readBigUInt64LE(32))).toBe(n);
    const files = unzipSync(bytes);
    expect(Object.keys(files).length).toBe(n);
    expect(Buffer.from(files['labels/69999.txt']).toString()).toBe('69999\n');
    await unzipTest(bytes);
    // Small pieces were gathered: the sink saw far fewer writes than entries.
    expect(sink.writes).toBeLessThan(n / 10);
  });

  it('refuses names that could escape the extraction folder, and duplicates', async () => {
    const zip = zipArchive(memorySink());
    for (const bad of ['../x', '/abs', 'a/../../b', 'c:\\x', 'a\\b', 'ctl\u0001.txt', '']) {
      await expect(zip.add(bad, 'x'), bad).rejects.toThrow(/unsafe zip entry/);
    }
    await zip.add('ok.txt', 'x');
    await expect(zip.add('ok.txt', 'y')).rejects.toThrow(/duplicate zip entry/);
  });
});
