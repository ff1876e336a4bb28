// The trained classifier as a plain linear head, for features computed elsewhere: a zip of
//   weights.npy  float32 [classes, dims]   bias.npy  float32 [classes]   classes.json   model-card.json
// probabilities = softmax(weights @ x + bias) with x the L2-normalised embedding of the card's embedder. The app's
// centring and temperature are folded into weights and bias exactly (learning/softmax.ts, calibration.ts), so there is
// nothing else to apply.

import { zipSync } from 'fflate';
import type { SoftmaxModel } from '../domain/learning/index.js';

/** A little-endian float32 `.npy` (NumPy format 1.0, C order). */
export function float32Npy(shape: number[], values: Float32Array): Uint8Array {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${dims}, }`;
  // Magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64 and ended by a newline.
  header = header.padEnd(Math.ceil((header.length + 11) / 64) * 64 - 11) + '\n';
  const out = new Uint8Array(10 + header.length + values.byteLength);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(new TextEncoder().encode(header), 10);
  const body = new Float32Array(values.length);
  body.set(values);
  out.set(new Uint8Array(body.buffer), 10 + header.length);
  return out;
}

const json = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);

export function headZip(model: SoftmaxModel, classes: string[], card: object): Uint8Array {
  return zipSync(
    {
      'weights.npy': float32Npy([model.classes, model.dim], model.weights),
      'bias.npy': float32Npy([model.classes], model.bias),
      'classes.json': json(classes),
      'model-card.json': json(card),
    },
    { level: 6, mtime: new Date('2000-01-01T00:00:00Z') },
  );
}
