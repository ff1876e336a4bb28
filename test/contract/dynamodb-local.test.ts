// The same contract on AWS's own DynamoDB engine (DynamoDB Local, Java), which is stricter than dynalite.

import { describe, it } from 'vitest';
import { javaAvailable, startDynamoDbLocal } from '../../functions/local/emulators.js';
import { startAwsTarget } from './aws-target.js';
import { storeContract } from './store-contract.js';

// CI=false or CI=0 means a laptop that exports the variable, not a CI run.
const inCi = !!process.env.CI && !/^(0|false)$/i.test(process.env.CI);

if (javaAvailable()) {
  storeContract('AWS adapters on DynamoDB Local + s3rver', () => startAwsTarget(() => startDynamoDbLocal()));
} else if (inCi) {
  describe('storage contract: DynamoDB Local', () => {
    it('needs Java on PATH in CI', () => {
      throw new Error('Java is missing: DynamoDB Local cannot run. Install a JRE 17+ (apt-get install openjdk-17-jre-headless).');
    });
  });
} else {
  console.warn('Skipping the DynamoDB Local storage contract: no Java on PATH (install a JRE 17+ to run it).');
  describe.skip('storage contract: DynamoDB Local (needs Java)', () => {
    it('runs when Java is installed', () => {});
  });
}
