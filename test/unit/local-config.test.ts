// The local stack's configuration (functions/local/config.ts): the model lab's limits are read there with the rest,
// validated, and a bad value stops the start naming what is wrong.

import { describe, expect, it } from 'vitest';
import { parseLocalConfig } from '../../functions/local/config.js';

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
