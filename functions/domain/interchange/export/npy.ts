// The NumPy `.npy` header (format 1.0) for a C-order little-endian float32 matrix; the rows follow as raw bytes,
// so a matrix of any size streams without being held. `np.load('features.npy')` reads it; so does parseNpy.

export function npyHeader(rows: number, cols: number): Uint8Array {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  // magic (6) + version (2) + header length (2) + dict, padded with spaces and ended by '\n' to a multiple of 64
  // bytes, so the data starts aligned (NumPy writes the same).
  const unpadded = 10 + dict.length + 1;
  const total = Math.ceil(unpadded / 64) * 64;
  const header = dict + ' '.repeat(total - unpadded) + '\n';
  const out = new Uint8Array(total);
  out.set([0x93, ...Buffer.from('NUMPY', 'latin1'), 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  return out;
}
