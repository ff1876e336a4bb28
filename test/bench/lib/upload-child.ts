// The uploader of the ingest bench, in its own process as a user's `winnow import` or `aws s3 sync` would be: the
// CLI's importFolder against the running stack in DATA_DIR. Prints one JSON line with the counts and duration.
//   node --openssl-legacy-provider --import tsx upload-child.ts DATA_DIR DIR PROJECT CONCURRENCY USER

import { importFolder } from '../../../functions/cli/import.js';
import { localTarget } from '../../../functions/cli/stack-client.js';

const [dataDir, dir, project, concurrency, user] = process.argv.slice(2);
const target = await localTarget(dataDir, user);
const started = performance.now();
const cpuBefore = process.cpuUsage();
const report = await importFolder(target, { dir, project, concurrency: Number(concurrency), wait: false, out: process.stderr });
process.stdout.write(
  JSON.stringify({
    uploaded: report.uploaded,
    unchanged: report.unchanged,
    rejected: report.rejected.length,
    failed: report.failed.length,
    ms: performance.now() - started,
    // This process's CPU over the upload (its Node start-up left out): the client's side of the uploads.
    cpuMs: (({ user, system }) => (user + system) / 1000)(process.cpuUsage(cpuBefore)),
  }) + '\n',
);
target.s3.destroy();
