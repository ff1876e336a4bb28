// Where `winnow import-labels PATH` reads from: an annotation file (its images in the same folder, or --images),
// a folder, or a .zip. All three become one tree of relative '/'-separated names. Archive entries are untrusted:
// every name goes through safeRelativePath, and an entry that would climb out (`../evil.jpg`, `/etc/x`, `C:\x`)
// is refused by name — never read, extracted or uploaded — which fails the whole import.

import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { safeRelativePath } from '../domain/interchange/names.js';

export interface SourceTree {
  /** What the user named, for messages. */
  label: string;
  /** Every file of the tree, relative, '/'-separated. */
  files: string[];
  /** Annotation files when PATH named one file (its path in the tree, or outside it: then read from disk). */
  entry?: string;
  /** Archive entries refused for their names. */
  refused: string[];
  read(file: string): Promise<Uint8Array>;
  /** A folder on disk that holds these files under the same relative names (for uploading them). */
  materialize(files: string[]): Promise<string>;
}

/** Archives above this much uncompressed data are refused before anything is decompressed. */
const MAX_ARCHIVE_BYTES = 8 * 1024 ** 3;

export async function openSource(target: string, imagesDir?: string): Promise<SourceTree> {
  const info = await stat(target).catch(() => undefined);
  if (!info) throw new Error(`${target}: no such file or folder`);
  if (info.isDirectory()) return folderTree(path.resolve(target), target);
  if (/\.zip$/i.test(target)) return zipTree(target);
  // One annotation file: the images are beside it unless --images says where.
  const root = path.resolve(imagesDir ?? path.dirname(target));
  const tree = await folderTree(root, target);
  const rel = path.relative(root, path.resolve(target));
  const inside = !rel.startsWith('..') && !path.isAbsolute(rel);
  const entry = inside ? rel.split(path.sep).join('/') : path.resolve(target);
  return {
    ...tree,
    entry,
    read: (file) => (file === entry && !inside ? readFile(file).then((b) => new Uint8Array(b)) : tree.read(file)),
  };
}

async function folderTree(root: string, label: string): Promise<SourceTree> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  const files = entries
    .filter((e) => e.isFile() && !e.name.startsWith('.'))
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
  return {
    label,
    files,
    refused: [],
    read: async (file) => new Uint8Array(await readFile(path.join(root, ...file.split('/')))),
    materialize: async () => root,
  };
}

function zipTree(zipPath: string): Promise<SourceTree> {
  return readFile(zipPath).then((data) => {
    const bytes = new Uint8Array(data);
    const files = new Map<string, string>(); // safe name -> entry name
    const refused: string[] = [];
    let total = 0;
    // First pass lists the entries without decompressing anything.
    unzipSync(bytes, {
      filter: (entry) => {
        total += entry.originalSize;
        if (entry.name.endsWith('/') || entry.name.startsWith('__MACOSX/') || /(^|\/)\.DS_Store$/.test(entry.name)) return false;
        const safe = safeRelativePath(entry.name);
        if (!safe) refused.push(entry.name);
        else files.set(safe, entry.name);
        return false;
      },
    });
    if (total > MAX_ARCHIVE_BYTES) throw new Error(`${zipPath}: ${total} bytes uncompressed, more than the ${MAX_ARCHIVE_BYTES}-byte limit`);
    const extract = (wanted: string[]) => {
      const names = new Set(wanted.map((w) => files.get(w)).filter((n): n is string => !!n));
      return unzipSync(bytes, { filter: (entry) => names.has(entry.name) });
    };
    const tree: SourceTree = {
      label: zipPath,
      files: [...files.keys()].sort(),
      refused,
      async read(file) {
        const out = extract([file])[files.get(file) ?? ''];
        if (!out) throw new Error(`${zipPath}: no entry ${file}`);
        return out;
      },
      async materialize(wanted) {
        const dir = await mkdtemp(path.join(os.tmpdir(), 'winnow-labels-'));
        const out = extract(wanted);
        for (const file of wanted) {
          const body = out[files.get(file) ?? ''];
          if (!body) continue;
          // `file` passed safeRelativePath: it stays inside `dir`.
          const target = path.join(dir, ...file.split('/'));
          await mkdir(path.dirname(target), { recursive: true });
          await writeFile(target, body);
        }
        return dir;
      },
    };
    return tree;
  });
}
