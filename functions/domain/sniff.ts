// Image type from the first bytes of a file, never from its name: a text file named .jpg or an SVG is not
// an image we accept (SVG is markup and is never rasterized or served).

export type ImageType = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif' | 'heif';

export function sniffImageType(head: Uint8Array): ImageType | undefined {
  const at = (i: number) => head[i];
  const ascii = (from: number, to: number) => String.fromCharCode(...head.subarray(from, to));
  if (head.length >= 3 && at(0) === 0xff && at(1) === 0xd8 && at(2) === 0xff) return 'jpeg';
  if (head.length >= 8 && at(0) === 0x89 && ascii(1, 4) === 'PNG' && at(4) === 0x0d && at(5) === 0x0a) return 'png';
  if (head.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (head.length >= 6 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a')) return 'gif';
  if (head.length >= 4 && ((ascii(0, 2) === 'II' && at(2) === 42 && at(3) === 0) || (ascii(0, 2) === 'MM' && at(2) === 0 && at(3) === 42))) return 'tiff';
  if (head.length >= 12 && ascii(4, 8) === 'ftyp') {
    const brand = ascii(8, 12);
    if (brand === 'avif' || brand === 'avis') return 'avif';
    if (['heic', 'heix', 'mif1', 'msf1'].includes(brand)) return 'heif';
  }
  return undefined;
}

/** A short description of what a rejected file looks like, for the user. */
export function describeNonImage(head: Uint8Array): string {
  if (head.length === 0) return 'empty file';
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head.subarray(0, 256)).trimStart().toLowerCase();
  if (text.startsWith('<svg') || (text.startsWith('<?xml') && text.includes('<svg'))) return 'an SVG drawing (markup), not a photo';
  if (text.startsWith('<')) return 'markup/text (HTML or XML), not an image';
  if (/^[\x09\x0a\x0d\x20-\x7e]*$/.test(text)) return 'a text file, not an image';
  return 'not a recognised image format (JPEG, PNG, WebP, GIF, TIFF, AVIF)';
}
