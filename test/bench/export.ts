// Export benchmark: a synthetic labeled project (default 100k samples: 25k images, each with an image label and
// three labeled boxes, plus 1280-d embeddings) in dynalite and the S3 emulator, then every format exported without
// images, each in its own process: rows/s, seconds, output size and the exporting process's peak RSS.
//   npm run bench:export -- [--samples 100000] [--formats coco,voc,yolo,csv,jsonl,embeddings] [--dims 1280]
//                            [--data DIR (reuse a seeded folder)] [--out test-output/bench]

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_TABLE_NAMES } from '../../functions/adapters/aws/schema.js';
import { tempDir } from '../support/stack.js';
import { BENCH_BUCKET, startEmulatedStores } from './lib/emulated-stores.js';
import { numberArg, parseArgs, stringArg } from './lib/args.js';
import { seedExportProject } from './lib/export-seed.js';
import { REPO_ROOT } from './lib/paths.js';
import { formatTable } from './lib/table.js';

const args = parseArgs();
const samples = numberArg(args, 'samples', 100_000);
const dims = numberArg(args, 'dims', 1280);
const formats = (stringArg(args, 'formats') ?? 'coco,voc,yolo,csv,jsonl,embeddings').split(',');
const outDir = path.resolve(REPO_ROOT, stringArg(args, 'out') ?? 'test-output/bench');
const dataDir = path.resolve(stringArg(args, 'data') ?? (await tempDir('bench-export')));
const PROJECT = 'bench';
const MODEL = 'bench-embedder';
const log = (line: string) => process.stderr.write(`${line}\n`);

const emulated = await startEmulatedStores(dataDir);
const { stores } = emulated;
const marker = path.join(dataDir, `seeded-${samples}-${dims}`);
try {
  if (!existsSync(marker)) {
    log(`seeding ${samples} samples (${dims}-d embeddings) into ${dataDir}`);
    const t0 = performance.now();
    await seedExportProject(stores, {
      projectId: PROJECT, samples, boxesPerImage: 3, classes: ['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips'],
      dims, model: MODEL, shardRows: 16_384, samplesTable: DEFAULT_TABLE_NAMES.samples, log,
    });
    await writeFile(marker, '');
    log(`seeded in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }

  const rows: (string | number)[][] = [];
  const results: Record<string, unknown> = {};
  for (const format of formats) {
    log(`exporting ${format}...`);
    const result = await runChild({
      dynamo: emulated.endpoints.dynamodb, s3: emulated.endpoints.s3, bucket: BENCH_BUCKET, projectId: PROJECT, model: MODEL,
      request: { format, include: 'labeled', images: false },
    });
    results[format] = result;
    // Rows: the samples the file describes (image labels + boxes; embedding rows for the matrix).
    const written = format === 'embeddings' ? result.counts.rows : result.counts.labels + result.counts.boxes;
    rows.push([
      format,
      written,
      Math.round(written / result.seconds),
      result.seconds.toFixed(1),
      (result.bytes / 1024 / 1024).toFixed(1),
      result.peakRssMiB.toFixed(0),
      result.baselineRssMiB.toFixed(0),
    ]);
    log(`  ${format}: ${written} rows in ${result.seconds.toFixed(1)} s, peak RSS ${result.peakRssMiB.toFixed(0)} MiB`);
  }
  const table = formatTable(['format', 'rows', 'rows/s', 'seconds', 'output MiB', 'peak RSS MiB', 'RSS at start MiB'], rows);
  console.log(`\nExport of ${samples} samples (${dims}-d embeddings), no images, one process per format:\n`);
  console.log(table);
  const worst = Math.max(...rows.map((r) => Number(r[5])));
  console.log(`\nworst peak RSS ${worst} MiB (target <= 256 MiB): ${worst <= 256 ? 'ok' : 'OVER'}`);
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, 'export.json'), JSON.stringify({ samples, dims, results }, null, 2));
} finally {
  await emulated.close();
}

interface ChildResult {
  seconds: number;
  counts: { images: number; boxes: number; labels: number; rows: number };
  bytes: number;
  peakRssMiB: number;
  baselineRssMiB: number;
}

function runChild(config: unknown): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--openssl-legacy-provider', '--import', 'tsx', path.join(REPO_ROOT, 'test/bench/lib/export-child.ts'), JSON.stringify(config)],
      { stdio: ['ignore', 'pipe', 'inherit'], cwd: REPO_ROOT },
    );
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`export child exited ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as ChildResult);
    });
  });
}
