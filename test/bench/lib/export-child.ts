// One export in a fresh process, so that its peak RSS is the export's own: started by bench/export.ts with the
// emulators' endpoints, runs the real job (streamed multipart upload into the S3 emulator), prints one JSON line.

import { createAwsStores } from '../../../functions/adapters/aws/clients.js';
import { DEFAULT_TABLE_NAMES } from '../../../functions/adapters/aws/schema.js';
import { awsExportDeps } from '../../../functions/adapters/export/service.js';
import { runExport, startExport, type ExportRequest } from '../../../functions/domain/interchange/export/job.js';

const config = JSON.parse(process.argv[2]) as {
  dynamo: string;
  s3: string;
  bucket: string;
  projectId: string;
  model: string;
  request: ExportRequest;
};

const stores = createAwsStores({
  region: 'us-east-1',
  endpoints: { dynamodb: config.dynamo, s3: config.s3 },
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  tables: DEFAULT_TABLE_NAMES,
  bucket: config.bucket,
});
const jobs: { projectId: string; exportId: string }[] = [];
const deps = awsExportDeps(stores, {
  bucket: config.bucket,
  defaultEmbeddingModel: config.model,
  runner: { dispatch: async (job) => void jobs.push(job) },
});
const start = process.memoryUsage();
const baseline = start.rss;
// Where the memory is, sampled while the export runs (printed with the result): heap, external, array buffers.
const peaks = { heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  for (const k of Object.keys(peaks) as (keyof typeof peaks)[]) peaks[k] = Math.max(peaks[k], m[k] / 1024 / 1024);
}, 200);
const started = await startExport(deps, config.projectId, config.request, 'bench');
const t0 = performance.now();
const status = await runExport(deps, jobs[0]);
const seconds = (performance.now() - t0) / 1000;
clearInterval(sampler);
if (!status || status.state !== 'done') throw new Error(`export ${started.exportId} ended ${status?.state}: ${status?.reason}`);
console.log(
  JSON.stringify({
    seconds,
    counts: status.counts,
    bytes: status.bytes,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    baselineRssMiB: baseline / 1024 / 1024,
    baselineHeapMiB: Math.round(start.heapUsed / 1024 / 1024),
    peaksMiB: Object.fromEntries(Object.entries(peaks).map(([k, v]) => [k, Math.round(v)])),
  }),
);
process.exit(0);
