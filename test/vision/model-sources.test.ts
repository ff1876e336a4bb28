// A stranger can get every file the default models need: each is either downloadable from public URLs pinned to a
// commit, or built by a recipe in this repository from such a file, and each has a sha256 and a size to check.

import { describe, expect, it } from 'vitest';
import { DERIVATIONS } from '../../functions/vision/derive.js';
import { DEFAULT_MODELS, loadManifests, requiredFiles, type ModelManifest } from '../../functions/vision/manifest.js';

describe('the default models can be obtained from public sources', async () => {
  const all = await loadManifests();
  const files = (m: ModelManifest) => [
    { file: m.file, sha256: m.sha256, bytes: m.bytes, source: m.source },
    ...m.outputs.flatMap((o) => (o.decode === 'embedding' ? [] : [{ file: o.labels.file, sha256: o.labels.sha256, bytes: o.labels.bytes ?? null, source: o.labels.source }])),
  ];
  const wanted = new Set<string>();
  const visit = (name: string) => {
    wanted.add(name);
    const base = all.get(name)?.source.derivedFrom;
    if (base) visit(base);
  };
  for (const name of DEFAULT_MODELS) visit(name);

  it.each([...wanted])('%s: every file has a sha256, a size and a pinned public URL or a recipe here', (name) => {
    const m = all.get(name)!;
    expect(requiredFiles(m).length).toBeGreaterThan(0);
    for (const f of files(m)) {
      expect(f.sha256, f.file).toMatch(/^[0-9a-f]{64}$/);
      expect(f.bytes, f.file).toBeGreaterThan(0);
      if (f.source?.derivation) {
        const recipe = DERIVATIONS[f.source.derivation];
        expect(recipe, f.file).toBeDefined();
        if (recipe.needsBase) expect(all.get(f.source.derivedFrom ?? '')?.source.url, f.file).toBeDefined();
        continue;
      }
      const urls = [f.source?.url, ...(f.source?.alternateUrls ?? [])].filter(Boolean) as string[];
      expect(urls.length, f.file).toBeGreaterThan(0);
      // Pinned: a 40-hex commit in every URL, never a branch name.
      for (const url of urls) expect(url, f.file).toMatch(/^https:\/\/[^/]+\/.*\/[0-9a-f]{40}\//);
    }
  });

  it('the MobileNetV2 base file lists the ONNX Model Zoo LFS media URL as a second source', () => {
    expect(all.get('mobilenetv2')!.source.alternateUrls).toContain(
      'https://media.githubusercontent.com/media/onnx/models/8b137f96002939214a6a40cca0cf222d043b714a/vision/classification/mobilenet/model/mobilenetv2-12-int8.onnx',
    );
  });
});
