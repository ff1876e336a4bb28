import { Writable } from 'node:stream';

/** A stream that discards what is written (quiet progress bars in tests). */
export function devNull(): NodeJS.WriteStream {
  return new Writable({ write: (_chunk, _enc, done) => done() }) as unknown as NodeJS.WriteStream;
}
