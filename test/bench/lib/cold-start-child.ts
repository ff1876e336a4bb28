// Run in a fresh Node process by cold-start.ts: create the analyzer, analyse one image (first result), then keep
// analysing the rest of the given images at the ingest concurrency to see the worker's own peak memory (no
// emulators, no API in this process, as in the ingest Lambda). Prints one JSON line per milestone.
// Input: argv[2] is a JSON ChildInput.

import { readFile } from 'node:fs/promises';
import { createImageAnalyzer } from '../../../functions/vision/analyzer.js';

export interface ChildInput {
  modelDir: string;
  manifestDir: string;
  images: string[];
  detect: boolean;
  concurrency: number;
}

// performance.now() counts from process start (performance.timeOrigin), so these include Node's own boot.
const importedAt = performance.now();
const input = JSON.parse(process.argv[2]) as ChildInput;
const emit = (line: object) => process.stdout.write(JSON.stringify(line) + '\n');

const analyzer = await createImageAnalyzer({ modelDir: input.modelDir, manifestDir: input.manifestDir });
const analyzerAt = performance.now();
const first = await analyzer.analyze(await readFile(input.images[0]), { detect: input.detect });
const firstAt = performance.now();
emit({
  milestone: 'first',
  importedMs: importedAt,
  analyzerMs: analyzerAt - importedAt,
  firstAnalyzeMs: firstAt - analyzerAt,
  sinceProcessStartMs: firstAt,
  detections: first.detections?.length ?? 0,
  rssMiB: process.memoryUsage().rss / 2 ** 20,
});

let next = 1;
const worker = async () => {
  while (next < input.images.length) {
    const file = input.images[next++];
    await analyzer.analyze(await readFile(file), { detect: input.detect }).catch(() => undefined);
  }
};
const warmStart = performance.now();
await Promise.all(Array.from({ length: input.concurrency }, worker));
emit({
  milestone: 'done',
  images: input.images.length - 1,
  ms: performance.now() - warmStart,
  peakRssMiB: process.resourceUsage().maxRSS / 1024,
});
