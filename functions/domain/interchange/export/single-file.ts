// The output of an export that is one file (CSV or JSON Lines without images): the one entry's bytes go straight
// to the object, no archive around them.

import { WinnowError } from '../../errors.js';
import { byteChunks } from './bytes.js';
import type { ArchiveWriter, ObjectSink } from './ports.js';

export function singleFileOutput(sink: ObjectSink): ArchiveWriter {
  let used = false;
  return {
    async add(path, body) {
      if (used) throw new WinnowError('internal', `a single-file export got a second file (${path})`);
      used = true;
      for await (const chunk of byteChunks(body)) await sink.write(chunk);
    },
    async finish() {},
  };
}
