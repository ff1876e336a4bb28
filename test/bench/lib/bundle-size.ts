// The web app's initial download: the entry script, the stylesheets and any module preloads that index.html
// names, each gzipped (level 9, as a CDN would serve it). Lazy chunks (owner views) are listed apart.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

export interface AssetSize {
  file: string;
  bytes: number;
  gzip: number;
}

export interface BundleSize {
  initial: AssetSize[];
  lazy: AssetSize[];
  initialJsGzip: number;
  initialCssGzip: number;
  initialGzip: number;
}

export function measureBundle(distDir: string): BundleSize {
  const html = readFileSync(path.join(distDir, 'index.html'), 'utf8');
  const refs = [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*\shref)="\/?([^"]+\.(?:js|css))"/g)].map((m) => m[1]);
  const size = (file: string): AssetSize => {
    const bytes = readFileSync(path.join(distDir, file));
    return { file, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  };
  const initial = [...new Set(refs)].map(size);
  const lazy = readdirSync(path.join(distDir, 'assets'))
    .map((f) => `assets/${f}`)
    .filter((f) => f.endsWith('.js') && !refs.includes(f))
    .map(size);
  const sum = (list: AssetSize[]) => list.reduce((n, a) => n + a.gzip, 0);
  const initialJsGzip = sum(initial.filter((a) => a.file.endsWith('.js')));
  const initialCssGzip = sum(initial.filter((a) => a.file.endsWith('.css')));
  return { initial, lazy, initialJsGzip, initialCssGzip, initialGzip: initialJsGzip + initialCssGzip };
}
