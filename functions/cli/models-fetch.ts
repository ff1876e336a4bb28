// `npm run models:fetch [-- --dir DIR] [--mirror URL] [--model NAME ...] [--all]`: puts the model files the default
// models (or the named ones) need into the model folder: downloads, verifies, derives (functions/vision/model-fetch.ts).

import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadManifests } from '../vision/manifest.js';
import { DEFAULT_MODELS, fetchModels } from '../vision/model-fetch.js';
import type { CliConfig } from '../local/config.js';

export const MODELS_FETCH_USAGE = `  models:fetch [--dir DIR] [--mirror URL] [--model NAME ...] [--all]
      Download the files the default models (${DEFAULT_MODELS.join(', ')}) need and are missing or damaged in DIR
      (default: WINNOW_MODELS, else ../shared/models if it exists, else ~/.cache/winnow/models), verify each
      size and sha256, and derive the files built by code (the embedder's "features" output). --mirror URL: get
      the files from URL/<file name> instead of their public sources (WINNOW_MODELS_MIRROR too). --model: only
      these manifests (repeatable); --all: every manifest in models/.`;

export async function modelsFetchCommand(args: string[], cli: CliConfig): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      dir: { type: 'string' },
      mirror: { type: 'string' },
      model: { type: 'string', multiple: true },
      all: { type: 'boolean', default: false },
    },
  });
  const modelDir = path.resolve(values.dir ?? cli.modelDir);
  const models = values.all ? [...(await loadManifests()).keys()] : values.model ?? [...DEFAULT_MODELS];
  const mirror = values.mirror ?? cli.modelsMirror;
  console.log(`model folder: ${modelDir}${mirror ? ` (mirror ${mirror})` : ''}`);
  const report = await fetchModels({ modelDir, models, mirror, log: (line) => console.log(line) });
  console.log(
    `fetched ${report.fetched.length}, derived ${report.derived.length}, already present ${report.alreadyPresent.length}, ` +
      `failed ${report.failed.length}; usable models: ${report.usable.join(', ') || 'none'}`,
  );
  for (const f of report.failed) console.error(`winnow: ${f.file} is missing: ${f.reason}`);
  return report.failed.length ? 1 : 0;
}
