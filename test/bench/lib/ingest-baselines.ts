// The two rates the ingest bench sets end to end against, measured in the same run on the same images:
// - analyzer alone: Winnow's own analyzer (decode + model tensors + thumbnail + inference, no storage), as many
//   images at once as ingest runs, on bytes read beforehand;
// - a plain script a user might write instead: for each file, decode and resize with sharp, normalise, run the
//   embedder with onnxruntime, one after the other, keep the vector in memory. No thumbnail, no storage, no queue.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { mapBounded } from '../../../functions/domain/concurrency.js';
import type { ImageAnalyzer } from '../../../functions/domain/ports.js';
import type { ModelManifest } from '../../../functions/vision/manifest.js';

export interface Rate {
  images: number;
  ms: number;
  perSecond: number;
  /** CPU time of this process (every thread) per image while it ran: what the work costs whatever the load. */
  cpuMsPerImage?: number;
}

const rate = (images: number, ms: number, cpu?: NodeJS.CpuUsage): Rate => ({
  images,
  ms,
  perSecond: (1000 * images) / ms,
  ...(cpu ? { cpuMsPerImage: (cpu.user + cpu.system) / 1000 / images } : {}),
});

export async function analyzerAlone(analyzer: ImageAnalyzer, files: string[], opts: { detect: boolean; concurrency: number }): Promise<Rate> {
  const bytes = await Promise.all(files.map(async (f) => new Uint8Array(await readFile(f))));
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await mapBounded(bytes, opts.concurrency, (b) => analyzer.analyze(b, { detect: opts.detect }));
  return rate(files.length, performance.now() - started, process.cpuUsage(cpuBefore));
}

/** Two runs of the same work as one rate (total images over total time), CPU per image weighted alike. */
export function bothRuns(a: Rate, b: Rate): Rate {
  const cpu = a.cpuMsPerImage !== undefined && b.cpuMsPerImage !== undefined ? { cpuMsPerImage: (a.cpuMsPerImage * a.images + b.cpuMsPerImage * b.images) / (a.images + b.images) } : {};
  return { images: a.images + b.images, ms: a.ms + b.ms, perSecond: (1000 * (a.images + b.images)) / (a.ms + b.ms), ...cpu };
}

/** The loop a user would write with the same embedder file (onnxruntime's default session options). */
export async function plainScript(manifest: ModelManifest, modelDir: string, files: string[]): Promise<Rate> {
  const session = await ort.InferenceSession.create(path.join(modelDir, manifest.file));
  const { crop = 224, resizeTo = 256, mean = [0, 0, 0], std = [1, 1, 1] } = manifest.preprocess as { crop?: number; resizeTo?: number; mean?: number[]; std?: number[] };
  const output = manifest.outputs.find((o) => o.decode === 'embedding')?.name ?? manifest.outputs[0].name;
  const embed = async (file: string) => {
    const { data } = await sharp(file)
      .rotate()
      .resize(resizeTo, resizeTo, { fit: 'outside' })
      .resize(crop, crop, { fit: 'cover' })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const plane = crop * crop;
    const input = new Float32Array(3 * plane);
    for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) input[c * plane + i] = (data[i * 3 + c] / 255 - mean[c]) / std[c];
    const out = await session.run({ [manifest.input.name]: new ort.Tensor('float32', input, [1, 3, crop, crop]) });
    return out[output].data as Float32Array;
  };
  await embed(files[0]); // warm-up, as the analyzer was warmed
  const vectors: Float32Array[] = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (const file of files) vectors.push(await embed(file));
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  await session.release();
  return rate(files.length, ms, cpu);
}
