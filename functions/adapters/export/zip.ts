// A streaming ZIP writer for exports, with Zip64. fflate's own `Zip` writes no Zip64 records, so an archive past
// 65,535 entries (a 40k-image YOLO export has 80k) or 4 GiB would come out corrupt; this writes the container
// itself and uses fflate's streaming `Deflate` for text entries. Images and matrices are stored (they do not
// shrink). Each entry streams: local header, data, then a data descriptor with its CRC and sizes (general purpose
// bit 3), so nothing is held but one chunk and, per entry, the few numbers the central directory needs at the end.

import { crc32, deflateRawSync } from 'node:zlib';
import { Deflate } from 'fflate';
import { WinnowError } from '../../domain/errors.js';
import { byteChunks } from '../../domain/interchange/export/bytes.js';
import type { ArchiveWriter, ObjectSink } from '../../domain/interchange/export/ports.js';
import { safeRelativePath } from '../../domain/interchange/names.js';

const U32 = 0xffffffff;
const U16 = 0xffff;
/** Data descriptor + UTF-8 names. */
const FLAGS = 0x0808;
/** Made by: Unix (3), spec 4.5. */
const MADE_BY = (3 << 8) | 45;
/** Regular file, rw-r--r--. */
const FILE_ATTRS = (0o100644 << 16) >>> 0;
const FLUSH_BYTES = 256 * 1024;
/** Text entries up to this size are deflated in one native call. */
const ONE_SHOT_BYTES = 1024 * 1024;
/** Text entries up to this size are stored: compressing them saves next to nothing. */
const STORE_BELOW = 4096;

interface EntryRecord {
  name: Uint8Array;
  method: number;
  crc: number;
  compressed: number;
  size: number;
  offset: number;
}

export interface ZipOptions {
  /** Modification time written on every entry (default: now). */
  mtime?: Date;
  /** Deflate level for compressed entries (default 6). */
  level?: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
}

export function zipArchive(sink: ObjectSink, opts: ZipOptions = {}): ArchiveWriter {
  const entries: EntryRecord[] = [];
  const names = new Set<string>();
  const { time, date } = dosDateTime(opts.mtime ?? new Date());
  let offset = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let finished = false;

  // Small pieces (headers, descriptors, deflate output) are gathered so the sink sees sizeable writes.
  async function emit(bytes: Uint8Array): Promise<void> {
    offset += bytes.byteLength;
    if (bytes.byteLength >= FLUSH_BYTES) {
      await flush();
      await sink.write(bytes);
      return;
    }
    pending.push(bytes);
    pendingBytes += bytes.byteLength;
    if (pendingBytes >= FLUSH_BYTES) await flush();
  }

  async function flush(): Promise<void> {
    if (pendingBytes === 0) return;
    const joined = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    await sink.write(joined);
  }

  return {
    async add(path, body, addOpts = {}) {
      if (finished) throw new WinnowError('internal', `zip entry ${path} added after finish`);
      // The domain names entries safely and uniquely; this is the last line of defence, not the policy.
      if (safeRelativePath(path) !== path) throw new WinnowError('internal', `unsafe zip entry name: ${JSON.stringify(path)}`);
      if (names.has(path)) throw new WinnowError('internal', `duplicate zip entry: ${path}`);
      names.add(path);
      const name = Buffer.from(path, 'utf8');
      const entry: EntryRecord = { name, method: 0, crc: 0, compressed: 0, size: 0, offset };
      const chunks = byteChunks(body)[Symbol.asyncIterator]();
      let crc = 0;
      const take = async () => {
        const next = await chunks.next();
        if (next.done) return undefined;
        crc = crc32(next.value, crc);
        entry.size += next.value.byteLength;
        return next.value;
      };
      const write = async (data: Uint8Array) => {
        entry.compressed += data.byteLength;
        await emit(data);
      };

      // Text entries are read ahead up to ONE_SHOT_BYTES to pick the method: tiny ones (a YOLO txt, a VOC XML) are
      // stored, since deflating 300 bytes saves nothing and each compressor's state is ~300 KB of memory to free
      // (25k of them between collections is what a process's peak would be made of); up to 1 MiB, one native
      // deflate call; beyond, a streaming fflate Deflate. Images and matrices are stored as they come.
      const head: Uint8Array[] = [];
      let headBytes = 0;
      let rest: Uint8Array | undefined;
      if (!addOpts.store) {
        for (let chunk = await take(); chunk; chunk = await take()) {
          if (headBytes + chunk.byteLength > ONE_SHOT_BYTES) {
            rest = chunk;
            break;
          }
          head.push(chunk);
          headBytes += chunk.byteLength;
        }
      }
      if (addOpts.store || (!rest && headBytes <= STORE_BELOW)) {
        await emit(localHeader(name, 0, time, date));
        for (const chunk of head) await write(chunk);
        for (let chunk = await take(); chunk; chunk = await take()) await write(chunk);
      } else if (!rest) {
        entry.method = 8;
        await emit(localHeader(name, 8, time, date));
        const joined = head.length === 1 ? head[0] : Buffer.concat(head, headBytes);
        // Output buffer sized to the input: zlib's default 16 KiB chunk would be mostly garbage.
        await write(deflateRawSync(joined, { level: opts.level ?? 6, chunkSize: Math.max(1024, headBytes + 64) }));
      } else {
        entry.method = 8;
        await emit(localHeader(name, 8, time, date));
        let out: Uint8Array[] = [];
        const deflate = new Deflate({ level: opts.level ?? 6 }, (data) => out.push(data));
        const drain = async () => {
          for (const data of out.splice(0)) await write(data);
        };
        for (const chunk of head) deflate.push(chunk);
        for (let chunk: Uint8Array | undefined = rest; chunk; chunk = await take()) {
          deflate.push(chunk);
          await drain();
        }
        deflate.push(new Uint8Array(0), true);
        await drain();
        out = [];
      }
      entry.crc = crc >>> 0;
      entries.push(entry);
      await emit(dataDescriptor(entry));
    },

    async finish() {
      if (finished) return;
      finished = true;
      const directoryStart = offset;
      for (const entry of entries) await emit(centralHeader(entry, time, date));
      const directorySize = offset - directoryStart;
      const zip64 = entries.length >= U16 || directoryStart >= U32 || directorySize >= U32;
      if (zip64) {
        const recordOffset = offset;
        await emit(zip64EndRecord(entries.length, directorySize, directoryStart));
        await emit(zip64Locator(recordOffset));
      }
      await emit(endRecord(entries.length, directorySize, directoryStart));
      await flush();
    },
  };
}

function localHeader(name: Uint8Array, method: number, time: number, date: number): Uint8Array {
  const b = Buffer.alloc(30 + name.byteLength);
  b.writeUInt32LE(0x04034b50, 0);
  b.writeUInt16LE(20, 4); // version needed (sizes are in the descriptor and the central directory)
  b.writeUInt16LE(FLAGS, 6);
  b.writeUInt16LE(method, 8);
  b.writeUInt16LE(time, 10);
  b.writeUInt16LE(date, 12);
  // crc, sizes: 0 (bit 3: they follow the data); name length; extra length 0
  b.writeUInt16LE(name.byteLength, 26);
  b.set(name, 30);
  return b;
}

const sizesNeedZip64 = (e: EntryRecord) => e.size >= U32 || e.compressed >= U32;

function dataDescriptor(e: EntryRecord): Uint8Array {
  if (sizesNeedZip64(e)) {
    const b = Buffer.alloc(24);
    b.writeUInt32LE(0x08074b50, 0);
    b.writeUInt32LE(e.crc, 4);
    b.writeBigUInt64LE(BigInt(e.compressed), 8);
    b.writeBigUInt64LE(BigInt(e.size), 16);
    return b;
  }
  const b = Buffer.alloc(16);
  b.writeUInt32LE(0x08074b50, 0);
  b.writeUInt32LE(e.crc, 4);
  b.writeUInt32LE(e.compressed, 8);
  b.writeUInt32LE(e.size, 12);
  return b;
}

function centralHeader(e: EntryRecord, time: number, date: number): Uint8Array {
  const bigSizes = sizesNeedZip64(e);
  const bigOffset = e.offset >= U32;
  // Zip64 extra field: the values whose 32-bit fields hold 0xFFFFFFFF, in the order the spec fixes.
  const extra: bigint[] = [];
  if (bigSizes) extra.push(BigInt(e.size), BigInt(e.compressed));
  if (bigOffset) extra.push(BigInt(e.offset));
  const extraLength = extra.length ? 4 + 8 * extra.length : 0;
  const b = Buffer.alloc(46 + e.name.byteLength + extraLength);
  b.writeUInt32LE(0x02014b50, 0);
  b.writeUInt16LE(MADE_BY, 4);
  b.writeUInt16LE(extra.length ? 45 : 20, 6);
  b.writeUInt16LE(FLAGS, 8);
  b.writeUInt16LE(e.method, 10);
  b.writeUInt16LE(time, 12);
  b.writeUInt16LE(date, 14);
  b.writeUInt32LE(e.crc, 16);
  b.writeUInt32LE(bigSizes ? U32 : e.compressed, 20);
  b.writeUInt32LE(bigSizes ? U32 : e.size, 24);
  b.writeUInt16LE(e.name.byteLength, 28);
  b.writeUInt16LE(extraLength, 30);
  // comment length 0, disk 0, internal attributes 0
  b.writeUInt32LE(FILE_ATTRS, 38);
  b.writeUInt32LE(bigOffset ? U32 : e.offset, 42);
  b.set(e.name, 46);
  if (extra.length) {
    let at = 46 + e.name.byteLength;
    b.writeUInt16LE(0x0001, at);
    b.writeUInt16LE(8 * extra.length, at + 2);
    at += 4;
    for (const v of extra) {
      b.writeBigUInt64LE(v, at);
      at += 8;
    }
  }
  return b;
}

function zip64EndRecord(count: number, size: number, start: number): Uint8Array {
  const b = Buffer.alloc(56);
  b.writeUInt32LE(0x06064b50, 0);
  b.writeBigUInt64LE(44n, 4); // size of the rest of this record
  b.writeUInt16LE(MADE_BY, 12);
  b.writeUInt16LE(45, 14);
  // this disk 0, directory disk 0
  b.writeBigUInt64LE(BigInt(count), 24);
  b.writeBigUInt64LE(BigInt(count), 32);
  b.writeBigUInt64LE(BigInt(size), 40);
  b.writeBigUInt64LE(BigInt(start), 48);
  return b;
}

function zip64Locator(recordOffset: number): Uint8Array {
  const b = Buffer.alloc(20);
  b.writeUInt32LE(0x07064b50, 0);
  b.writeBigUInt64LE(BigInt(recordOffset), 8);
  b.writeUInt32LE(1, 16); // total disks
  return b;
}

function endRecord(count: number, size: number, start: number): Uint8Array {
  const b = Buffer.alloc(22);
  b.writeUInt32LE(0x06054b50, 0);
  b.writeUInt16LE(Math.min(count, U16), 8);
  b.writeUInt16LE(Math.min(count, U16), 10);
  b.writeUInt32LE(Math.min(size, U32), 12);
  b.writeUInt32LE(Math.min(start, U32), 16);
  return b;
}

/** MS-DOS time and date fields (no time zone in ZIP: UTC, so that an archive's bytes do not depend on the host). */
function dosDateTime(d: Date): { time: number; date: number } {
  const year = Math.min(Math.max(d.getUTCFullYear(), 1980), 2107);
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
    date: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}
