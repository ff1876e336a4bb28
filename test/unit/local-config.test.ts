// The local stack's configuration (functions/local/config.ts): the model lab's limits are read there with the rest,
// validated, and a bad value stops the start naming what is wrong.

import { describe, expect, it } from 'vitest';
import { parseCliConfig, parseLocalConfig } from '../../functions/local/config.js';

describe('local configuration', () => {
  it('takes the model limits from WINNOW_MODEL_MAX_BYTES and WINNOW_MODEL_TIMEOUT_MS, with defaults', () => {
    expect(parseLocalConfig([], {})).toMatchObject({ modelMaxBytes: 500 * 1024 * 1024, modelTimeoutMs: 10_000 });
    expect(parseLocalConfig([], { WINNOW_MODEL_MAX_BYTES: '1048576', WINNOW_MODEL_TIMEOUT_MS: '2500' })).toMatchObject({ modelMaxBytes: 1_048_576, modelTimeoutMs: 2500 });
  });

  it('refuses a limit that is not a positive whole number', () => {
    expect(() => parseLocalConfig([], { WINNOW_MODEL_TIMEOUT_MS: 'soon' })).toThrow(/modelTimeoutMs/);
    expect(() => parseLocalConfig([], { WINNOW_MODEL_MAX_BYTES: '-1' })).toThrow(/modelMaxBytes/);
  });
});

describe('the command line configuration', () => {
  it('finds the stack and the model folder by the same rules as npm start', () => {
    const env = { WINNOW_DATA: '/srv/winnow-data', WINNOW_MODELS: '/srv/models', WINNOW_MODELS_MIRROR: 'http://mirror.lan/models' };
    expect(parseCliConfig(env)).toEqual({ dataDir: '/srv/winnow-data', modelDir: '/srv/models', modelsMirror: 'http://mirror.lan/models' });
    expect(parseCliConfig(env).dataDir).toBe(parseLocalConfig([], env).dataDir);
    expect(parseCliConfig({}).dataDir).toBe(parseLocalConfig([], {}).dataDir);
    expect(parseCliConfig({ WINNOW_MODELS_MIRROR: '' }).modelsMirror).toBeUndefined();
  });

  it('refuses a mirror that is not a URL, naming the variable', () => {
    expect(() => parseCliConfig({ WINNOW_MODELS_MIRROR: 'mirror.lan' })).toThrow(/WINNOW_MODELS_MIRROR/);
  });
});
