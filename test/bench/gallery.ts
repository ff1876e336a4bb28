// Gallery benchmark: a synthetic labeled project (default 50k samples, 100 classes so a class is 1 %, 2 % ambiguous,
// two labelers) in dynalite, the local stack's table emulator, then the gallery queries of functions/domain/gallery.ts
// against the AWS adapters: the first page, a rare filter walked to its end, a filter that matches nothing (the
// worst case: the whole project read in bounded requests), a sorted first page, and the counts. Prints a table.
//   npm run bench -- gallery [--samples 50000] [--classes 100]

import { rm } from 'node:fs/promises';
import { DEFAULT_TABLE_NAMES } from '../../functions/adapters/aws/schema.js';
import { galleryCounts, galleryPage, type GalleryFilter, type GallerySort } from '../../functions/domain/gallery.js';
import { tempDir } from '../support/stack.js';
import { startEmulatedStores } from './lib/emulated-stores.js';
import { numberArg, parseArgs } from './lib/args.js';
import { seedExportProject } from './lib/export-seed.js';
import { printTable } from './lib/table.js';

const args = parseArgs();
const samples = numberArg(args, 'samples', 50_000);
const classCount = numberArg(args, 'classes', 100);
const PROJECT = 'bench';
const log = (line: string) => process.stderr.write(`${line}\n`);

const dataDir = await tempDir('bench-gallery');
const emulated = await startEmulatedStores(dataDir);
const { stores } = emulated;

try {
  const classes = Array.from({ length: classCount }, (_, i) => `class-${i}`);
  const t0 = performance.now();
  await seedExportProject(stores, {
    projectId: PROJECT, samples, boxesPerImage: 0, classes, dims: 4, model: 'bench', shardRows: 1_000_000, samplesTable: DEFAULT_TABLE_NAMES.samples, log,
  });
  log(`seeded ${samples} samples in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const rows: (string | number)[][] = [];
  /** Walks a query page by page (up to `maxPages`), as the gallery does while the owner scrolls. */
  async function walk(what: string, filter: GalleryFilter, opts: { sort?: GallerySort; maxPages?: number; limit?: number } = {}) {
    let cursor: string | undefined;
    let requests = 0;
    let matches = 0;
    let scanned = 0;
    const firstPage: number[] = [];
    const t = performance.now();
    do {
      const r0 = performance.now();
      const page = await galleryPage(stores, PROJECT, { filter, sort: opts.sort, cursor, limit: opts.limit ?? 100 });
      if (requests === 0) firstPage.push(performance.now() - r0);
      requests++;
      matches += page.items.length;
      scanned += page.scanned;
      cursor = page.cursor;
    } while (cursor && requests < (opts.maxPages ?? Infinity));
    const seconds = (performance.now() - t) / 1000;
    rows.push([what, requests, matches, scanned, firstPage[0].toFixed(0), seconds.toFixed(2), (scanned / seconds).toFixed(0)]);
    log(`${what}: ${requests} requests, ${matches} matches, ${scanned} read, ${seconds.toFixed(2)} s`);
  }

  await walk('no filter, first page of 100', {}, { maxPages: 1 });
  await walk('no filter, 10 pages of 100 (scrolling)', {}, { maxPages: 10 });
  await walk('one class (1 %), walked to the end', { classIndex: 7 });
  await walk('ambiguous (2 %), first page of 100', { ambiguous: true }, { maxPages: 1 });
  await walk('labeler bob + one class, walked to the end', { labelerId: 'bob', classIndex: 3 });
  await walk('matches nothing (worst case), walked to the end', { labelerId: 'nobody' });
  await walk('sorted by confidence (reads all), first page', {}, { sort: 'confidence-asc', maxPages: 1 });
  const c0 = performance.now();
  await galleryCounts(stores, PROJECT, 'bench');
  const countsMs = performance.now() - c0;

  console.log(`\ngallery queries on ${samples} samples, ${classCount} classes (dynalite, one process, 2 shared vCPUs)\n`);
  printTable(['query', 'requests', 'matches', 'records read', 'first request ms', 'seconds in all', 'records/s'], rows);
  console.log(`\ncounts per filter value (GET .../gallery/counts): ${countsMs.toFixed(0)} ms`);
} finally {
  await emulated.close();
  await rm(dataDir, { recursive: true, force: true });
}
