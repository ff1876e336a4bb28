// Composition root of `npm start`: the whole product on this machine, on embedded emulators.

import path from 'node:path';
import { createLogger } from '../adapters/log.js';
import { parseLocalConfig } from './config.js';
import { prepareLocalModels } from './models.js';
import { startLocalStack } from './stack.js';
import { buildWeb, WEB_DIST, webBuildIsStale } from './web-build.js';

const logger = createLogger({ format: 'text' });

async function main() {
  const started = performance.now();
  // Refuses to expose the server without sign-in, and a wildcard bind without --public-url.
  const config = parseLocalConfig(process.argv.slice(2), process.env);
  if (webBuildIsStale()) await buildWeb(logger);

  // Missing default models are fetched in the background once the stack runs (see models.ts).
  const models = await prepareLocalModels({
    modelDir: config.modelDir,
    dataDir: config.dataDir,
    mirror: config.modelsMirror,
    fetch: config.modelsFetch,
    log: logger,
    warn: logger.warn,
  });
  const analyzer = models.analyzer;

  const stack = await startLocalStack({
    port: config.port,
    host: config.host,
    dataDir: config.dataDir,
    s3Port: config.s3Port,
    dynamoPort: config.dynamoPort,
    ingestConcurrency: config.ingestConcurrency,
    analyzer,
    modelDir: config.modelDir,
    webDir: WEB_DIST,
    auth: config.auth,
    publicUrl: config.publicUrl,
    auditRate: config.auditRate,
    modelLimits: { maxBytes: config.modelMaxBytes, timeoutMs: config.modelTimeoutMs },
    log: logger,
  });
  logger(
    [
      `Winnow is running at ${stack.url}  (ready in ${Math.round(performance.now() - started)} ms)`,
      `  data:    ${config.dataDir}`,
      `  sign-in: ${config.auth ? 'on (add users with: npm run winnow -- users add NAME [--admin])' : 'off (loopback only; labelers pick a name)'}`,
      `  models:  ${models.describe()}`,
      config.auth
        ? `  S3 API:  ${stack.s3Endpoint}  bucket ${stack.bucket}  (this machine only; per-start keys in ${path.join(config.dataDir, 'stack.json')})`
        : `  S3 API:  ${stack.s3Endpoint}  bucket ${stack.bucket}  (aws s3 sync DIR s3://${stack.bucket}/uploads/<project>/ --endpoint-url ${stack.s3Endpoint})`,
      `  import:  npm run winnow -- import ./photos --project flowers --classes daisy,rose`,
      'Press Ctrl+C to stop.',
    ].join('\n'),
  );
  models.attach(stack); // after the banner, so that fetch progress follows it
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    logger('stopping...');
    await stack.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  logger.error(`winnow: ${(err as Error).message}`);
  process.exit(1);
});
