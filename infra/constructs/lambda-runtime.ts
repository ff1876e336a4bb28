// The Node.js version of every Winnow Lambda (bundled functions here; the ingest image's base image in
// functions/ingest/Dockerfile must match). nodejs20.x is deprecated on Lambda since 2026-04-30 and can no longer
// be created from 2027-02-01, so the cloud runs Node 24 (the code also runs on the Node 20 toolchain).

import { Runtime } from 'aws-cdk-lib/aws-lambda';

export const LAMBDA_NODE_RUNTIME = Runtime.NODEJS_24_X;
/** esbuild target: syntax both the local toolchain (Node 20) and the Lambda runtime understand. */
export const BUNDLE_TARGET = 'node20';
