import { describe, expect, it } from 'vitest';
import { parseCsv } from '../bench/lib/csv.js';
import { parseNpy } from '../bench/lib/npy.js';

/** A version-1 .npy file as NumPy writes it: magic, header dict padded to 64 bytes, little-endian data. */
function npy(descr: string, shape: [number, number], body: ArrayBufferView): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape[0]}, ${shape[1]}), }`;
  header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
  const out = new Uint8Array(10 + header.length + body.byteLength);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), 10 + header.length);
  return out;
}

describe('bench dataset readers', () => {
  it('read float16, float32 and float64 .npy matrices in row order', () => {
    const values = [1, -2, 0.5, 3, 0, 0.25];
    for (const [descr, body] of [
      ['<f4', Float32Array.from(values)],
      ['<f8', Float64Array.from(values)],
      ['<f2', Uint16Array.from([0x3c00, 0xc000, 0x3800, 0x4200, 0x0000, 0x3400])],
    ] as const) {
      const m = parseNpy(npy(descr, [2, 3], body));
      expect([m.rows, m.cols]).toEqual([2, 3]);
      expect(Array.from(m.data)).toEqual(values);
    }
  });

  it('reject what they cannot read with a reason', () => {
    expect(() => parseNpy(new Uint8Array(16))).toThrow(/not a \.npy/);
    expect(() => parseNpy(npy('<i4', [1, 1], new Int32Array(1)))).toThrow(/unsupported .npy dtype/);
  });

  it('parse quoted CSV fields with commas, quotes and CRLF', () => {
    const rows = parseCsv('path,label,attribution\r\na.jpg,daisy,"CC-BY by A, B ""C"""\r\nb.jpg,roses,x\n');
    expect(rows).toEqual([
      { path: 'a.jpg', label: 'daisy', attribution: 'CC-BY by A, B "C"' },
      { path: 'b.jpg', label: 'roses', attribution: 'x' },
    ]);
  });
});
