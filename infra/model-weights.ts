// The ingest image bakes the ONNX weights in from a model folder outside the repository (a named Docker build
// context). Before anything is built, the files the stage's models need are checked against their manifests (size
// and sha256): `cdk synth` stops with a message naming each missing or damaged file and `npm run models:fetch`,
// instead of deploying an ingest that never embeds. Docker asset hashes only cover the repository folder, so the
// weights' content hash is added explicitly: new weights -> new image, same weights -> same hash on every machine
// (no timestamps, no absolute paths).

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { DEFAULT_MODELS, defaultManifestDir, defaultModelDir, parseManifest, requiredFiles, type ModelManifest } from '../functions/vision/manifest.js';
import { repoRoot } from '../functions/repo-root.js';

export interface ModelWeights {
  /** Absolute folder passed to `docker build --build-context model-weights=<dir>`. */
  dir: string;
  /** sha256 over every file's relative path and bytes, in sorted order. */
  contentHash: string;
}

/**
 * The model folder a stage bakes in: its `modelWeightsDir` setting (relative to the repository), else the same
 * folder `npm start` and `npm run models:fetch` use (WINNOW_MODELS, ../shared/models when present, else
 * ~/.cache/winnow/models).
 */
export function stageModelDir(config: { modelWeightsDir?: string }, env: NodeJS.ProcessEnv = process.env): string {
  return config.modelWeightsDir ? resolve(repoRoot(), config.modelWeightsDir) : defaultModelDir(env);
}

/** The manifests the ingest image needs for a stage: its embedder plus the default tagger and detector. */
export function stageModels(embedder: string): string[] {
  return [...new Set([embedder, ...DEFAULT_MODELS])];
}

/**
 * Verifies that `dir` holds every file the named models need (size and sha256 from the manifests), then hashes the
 * folder. Throws one error listing every problem and how to fix it.
 */
export function readModelWeights(dir: string, opts: { models: string[]; manifestDir?: string }): ModelWeights {
  const problems = checkModelWeights(dir, opts.models, opts.manifestDir ?? defaultManifestDir());
  if (problems.length > 0) {
    throw new Error(
      `The ingest image would bake model weights from ${dir}, but they are not right:\n` +
        problems.map((p) => `  - ${p}`).join('\n') +
        `\nFetch and verify them with \`npm run models:fetch -- --dir ${dir}\`` +
        ' (or point the stage setting modelWeightsDir, or WINNOW_MODELS, at a folder that has them).',
    );
  }
  const hash = createHash('sha256');
  for (const file of listFiles(dir)) {
    hash.update(relative(dir, file).split(sep).join('/'));
    hash.update('\0');
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  return { dir, contentHash: hash.digest('hex') };
}

/** One line per missing, damaged or unverifiable file (empty when all is well). */
function checkModelWeights(dir: string, models: string[], manifestDir: string): string[] {
  const manifests = loadManifestsSync(manifestDir);
  const problems: string[] = [];
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [`the model folder ${dir} does not exist`];
  const seen = new Set<string>();
  for (const name of models) {
    const manifest = manifests.get(name);
    if (!manifest) {
      problems.push(`no model manifest named "${name}" in ${manifestDir} (known: ${[...manifests.keys()].join(', ')}); check the stage setting "embedder"`);
      continue;
    }
    for (const req of requiredFiles(manifest)) {
      if (seen.has(req.file)) continue;
      seen.add(req.file);
      const path = join(dir, req.file);
      if (!existsSync(path)) {
        problems.push(`${req.file} (model "${req.manifest}") is missing`);
        continue;
      }
      const bytes = readFileSync(path);
      if (req.bytes !== null && bytes.byteLength !== req.bytes) {
        problems.push(`${req.file} (model "${req.manifest}") is damaged: ${bytes.byteLength} bytes instead of ${req.bytes}`);
        continue;
      }
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (req.sha256 === null) problems.push(`${req.file} (model "${req.manifest}") cannot be verified: its manifest pins no sha256 yet (pin it first)`);
      else if (sha !== req.sha256) problems.push(`${req.file} (model "${req.manifest}") is damaged: sha256 ${sha}, expected ${req.sha256}`);
    }
  }
  return problems;
}

function loadManifestsSync(manifestDir: string): Map<string, ModelManifest> {
  const manifests = new Map<string, ModelManifest>();
  for (const fileName of readdirSync(manifestDir).filter((f) => f.endsWith('.json')).sort()) {
    const origin = join(manifestDir, fileName);
    const manifest = parseManifest(JSON.parse(readFileSync(origin, 'utf8')), origin);
    manifests.set(manifest.name, manifest);
  }
  return manifests;
}

function listFiles(dir: string): string[] {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  return entries.flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return listFiles(path);
    return e.isFile() ? [path] : [];
  });
}
