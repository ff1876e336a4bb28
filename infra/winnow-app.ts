// Creates the stack for one stage, the same way for `cdk synth/deploy` and for the tests.

import type { App } from 'aws-cdk-lib';
import type { StageConfig } from './config.js';
import { WinnowStack, type WinnowSources } from './winnow-stack.js';

export function createWinnowStack(app: App, stageName: string, config: StageConfig, sources: WinnowSources): WinnowStack {
  return new WinnowStack(app, `Winnow-${stageName}`, {
    stageName,
    config,
    sources,
    description: `Winnow image labeling (${stageName})`,
    // Environment-agnostic unless the stage pins an account and region: the template does not depend on who
    // synthesizes it, and `cdk deploy` targets the account and region of the current credentials.
    env: config.account || config.region ? { account: config.account, region: config.region } : undefined,
  });
}
