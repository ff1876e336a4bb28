// Where tests find the shared models and datasets: `../shared` beside the checkout unless WINNOW_SHARED says.

import path from 'node:path';
import { repoRoot } from '../../functions/repo-root.js';

export const REPO = repoRoot();
export const SHARED = path.resolve(process.env.WINNOW_SHARED ?? path.join(REPO, '../shared'));
export const MODELS = path.resolve(process.env.WINNOW_MODELS ?? path.join(SHARED, 'models'));
export const FLOWERS = path.join(SHARED, 'datasets/tf_flowers_dev');
export const TEST_OUTPUT = path.join(REPO, 'test-output');
