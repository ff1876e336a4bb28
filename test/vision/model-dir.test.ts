// Where the model files are looked for, the one rule `npm start`, `npm run models:fetch` and `cdk synth` share.

import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultModelDir, userModelCache } from '../../functions/vision/manifest.js';
import { REPO } from '../support/paths.js';

describe('the model folder', () => {
  it('is WINNOW_MODELS when set', () => {
    expect(defaultModelDir({ WINNOW_MODELS: '/srv/models' })).toBe('/srv/models');
  });

  it("is the team's ../shared/models beside the checkout when it exists (CI)", () => {
    expect(defaultModelDir({}, REPO)).toBe(REPO); // any existing folder stands in for it
  });

  it('is the user cache folder on a machine without ../shared', () => {
    const missing = path.join(REPO, 'no-such-shared-folder');
    expect(defaultModelDir({ XDG_CACHE_HOME: '/home/ann/.cache-x' }, missing)).toBe('/home/ann/.cache-x/winnow/models');
    expect(defaultModelDir({ HOME: '/home/ann' }, missing)).toBe('/home/ann/.cache/winnow/models');
    expect(userModelCache({})).toBe(path.join(os.homedir(), '.cache', 'winnow', 'models'));
  });
});
