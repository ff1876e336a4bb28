// CDK entry point (`cdk.json`: `npx tsx infra/app.ts`). One stage per invocation: `-c stage=prod`, default dev.
// Synthesizes with no AWS credentials and no Docker: container images are only staged until `cdk deploy`.

import { App } from 'aws-cdk-lib';
import { parseStageConfig } from './config.js';
import { addNagChecks } from './nag.js';
import { resolveSources } from './sources.js';
import { createWinnowStack } from './winnow-app.js';

const app = new App();
const stageName = String(app.node.tryGetContext('stage') ?? 'dev');
const config = parseStageConfig(app.node.tryGetContext('stages'), stageName);
createWinnowStack(app, stageName, config, resolveSources(config));
addNagChecks(app);
