// Finds the deployable pieces on disk for a stage: function entry points, the ingest Dockerfile, the built web
// app (if any) and the model weights (verified). The app and the tests share this.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { StageConfig } from './config.js';
import { readModelWeights, stageModelDir, stageModels } from './model-weights.js';
import { PATHS } from './paths.js';
import type { WinnowSources } from './winnow-stack.js';

export function resolveSources(config: Pick<StageConfig, 'modelWeightsDir' | 'embedder'>): WinnowSources {
  return {
    repoRoot: PATHS.repoRoot,
    lockFile: PATHS.lockFile,
    apiEntry: PATHS.apiEntry,
    trainerEntry: PATHS.trainerEntry,
    exportEntry: PATHS.exportEntry,
    ingestDockerfile: PATHS.ingestDockerfile,
    webDist: existsSync(resolve(PATHS.webDist, 'index.html')) ? PATHS.webDist : undefined,
    // Throws, naming each missing or damaged file and `npm run models:fetch`, before anything is built.
    modelWeights: readModelWeights(stageModelDir(config), { models: stageModels(config.embedder) }),
  };
}
