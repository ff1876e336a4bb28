// A stand-in for the public model sources: a local HTTP server serving a folder by file name, the way
// `models:fetch --mirror URL` and `WINNOW_MODELS_MIRROR` expect. The folder is filled at test time with copies of the
// public base files from ../shared/models (never the derived ones), so a test proves the rest is built here.

import { createReadStream } from 'node:fs';
import { copyFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { MODELS } from './paths.js';
import { tempDir } from './stack.js';

/** The files of the default models that are downloaded (everything else is derived by code). */
export const PUBLIC_BASE_FILES = ['mobilenetv2-12-int8.onnx', 'imagenet-simple-labels.json', 'yolox_nano.onnx'];

export interface ModelMirror {
  url: string;
  dir: string;
  /** Paths requested so far, in order. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * Serves `dir` (default: a new folder holding copies of the public base files) at http://127.0.0.1:<port>/. With
 * `gate`, every answer waits for it (a slow first download, to see what the stack does meanwhile).
 */
export async function startModelMirror(dir?: string, opts: { gate?: Promise<void> } = {}): Promise<ModelMirror> {
  const folder = dir ?? (await tempDir('mirror'));
  if (!dir) for (const file of PUBLIC_BASE_FILES) await copyFile(path.join(MODELS, file), path.join(folder, file));
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url!, 'http://x').pathname.slice(1));
    requests.push(name);
    const file = path.join(folder, path.basename(name));
    Promise.resolve(opts.gate).then(() => stat(file)).then(
      (s) => {
        res.setHeader('content-length', s.size);
        createReadStream(file).pipe(res);
      },
      () => {
        res.statusCode = 404;
        res.end('not found');
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    dir: folder,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
