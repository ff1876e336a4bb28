// The dev stage's stage-wide expiry of originals (cdk.json storage.uploadsExpirationDays) is no longer silent: synth
// carries a warning that labels point at originals that will disappear; a stage without it has no such warning.

import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { synthWinnow } from '../infra/support/synth.js';

const WARNING = Match.stringLikeRegexp('storage\\.uploadsExpirationDays is \\d+: S3 deletes every original .* while labels still point at it');

describe('stage-wide expiry of originals', () => {
  it('warns at synth when the stage expires originals, and not when it keeps them', () => {
    const dev = synthWinnow({ stage: 'dev' });
    try {
      expect(dev.config.storage.uploadsExpirationDays).toBeGreaterThan(0);
      Annotations.fromStack(dev.stack).hasWarning('*', WARNING);
      const text = Annotations.fromStack(dev.stack).findWarning('*', WARNING)[0].entry.data as string;
      expect(text).toContain(`is ${dev.config.storage.uploadsExpirationDays}:`);
      expect(text).toContain('retention');
    } finally {
      dev.cleanup();
    }
    const kept = synthWinnow({ stage: 'dev', configure: (c) => ({ ...c, storage: { ...c.storage, uploadsExpirationDays: undefined } }) });
    try {
      Annotations.fromStack(kept.stack).hasNoWarning('*', WARNING);
    } finally {
      kept.cleanup();
    }
  });
});
