// Turning an entry body (text, bytes, or a stream of either) into byte chunks of a useful size: writers yield one
// line or one JSON object at a time, and encoding each alone would cost more than the text.

import type { Bytes } from './ports.js';

const TEXT_CHUNK = 64 * 1024;
const encoder = new TextEncoder();

export async function* byteChunks(body: Bytes): AsyncGenerator<Uint8Array> {
  if (typeof body === 'string') {
    if (body.length) yield encoder.encode(body);
    return;
  }
  if (body instanceof Uint8Array) {
    if (body.byteLength) yield body;
    return;
  }
  let pending = '';
  for await (const part of body) {
    if (typeof part === 'string') {
      pending += part;
      if (pending.length >= TEXT_CHUNK) {
        yield encoder.encode(pending);
        pending = '';
      }
      continue;
    }
    if (pending) {
      yield encoder.encode(pending);
      pending = '';
    }
    if (part.byteLength) yield part;
  }
  if (pending) yield encoder.encode(pending);
}
