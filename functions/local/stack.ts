// The whole product on one machine: DynamoDB (dynalite) and S3 (s3rver) emulators, each in its own child process
// and persisted under the data folder, the ingest handler fed by the S3 emulator's upload events, and the API + web
// app on one origin.
// The emulators listen on loopback only, whatever the server binds to, and answer only requests signed with this
// start's credentials (random with sign-in on; the documented S3RVER pair without it, when only this machine's users
// can reach anything anyway). Browsers never talk to them: images, uploads and downloads go through the server's
// own origin with URLs Winnow signs and checks itself (`/files/...`, file-urls.ts).
// Used by `npm start`, by the end-to-end tests and by the benchmarks: one way to start the local stack.

import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import type { Authenticate } from '../api/types.js';
import { startStoreThread, type StoreThread } from './store-thread.js';
import { createAwsStores, destroyAwsClients, ensureBucket, ensureTables } from '../adapters/aws/clients.js';
import { LOCAL_COUNT_BEHIND } from '../adapters/aws/project-counter.js';
import type { DynamoSampleStore } from '../adapters/aws/samples.js';
import { DEFAULT_TABLE_NAMES } from '../adapters/aws/schema.js';
import { shardFeatureVectors } from '../adapters/embeddings/store.js';
import { createLogger } from '../adapters/log.js';
import { finishUnfinished, LabelCompletionTracker } from '../domain/label-completions.js';
import { repairCountsOf, unfinishedCounts } from '../domain/progress-tally.js';
import type { ImageAnalyzer, LabelCompletions, Log, Stores } from '../domain/ports.js';
import { scheduleRetention } from '../domain/retention.js';
import { ServeAhead } from '../domain/serving/lease-ahead.js';
import { DEFAULT_INGEST_CONCURRENCY } from '../ingest/handler.js';
import type { TrainerWorker, TrainerWorkerOptions } from '../trainer/worker.js';
import { DEFAULT_EMULATOR_CREDENTIALS, startDynaliteProcess, type EmulatorCredentials } from './emulators.js';
import { createFileRoutes } from './file-routes.js';
import { loadOrCreateFileSecret, SignedFileUrls } from './file-urls.js';
import type { IngestQueue } from './ingest-queue.js';
import { localExports } from './exports.js';
import { createLocalServer } from './server.js';
import { FileLabelJournal, LABEL_JOURNAL_FILE } from './label-journal.js';
import { INLINE_UPLOAD_MAX, startPipeline, type PipelineOptions } from './pipeline.js';
import type { TrainerPriority } from './trainer-process.js';
import { reconcileUploads } from './reconcile.js';
import { startS3rverProcess } from './s3rver-process.js';
import { localSignIn } from './sign-in.js';
import { createModelLab } from '../vision/model-lab.js';
import { ModelRegistry } from '../vision/registry.js';

export const LOCAL_BUCKET = 'winnow-local';
export const LOCAL_REGION = 'us-east-1';
/** The emulators' credentials without sign-in (documented for `aws s3 sync`); with sign-in each start makes its own. */
export const LOCAL_CREDENTIALS: EmulatorCredentials = DEFAULT_EMULATOR_CREDENTIALS;

export interface LocalStackOptions {
  port: number;
  host: string;
  dataDir: string;
  s3Port: number;
  dynamoPort: number;
  ingestConcurrency?: number;
  analyzer: ImageAnalyzer;
  /** Folder of the shipped models' files (the classifier export reads the embedder from it; absent, it exports no shipped embedder). */
  modelDir?: string;
  authenticate?: Authenticate;
  /** Retraining cadence of the in-process trainer (defaults: every 4 labels or 3 s). */
  trainer?: Pick<TrainerWorkerOptions, 'everyLabels' | 'afterMs'>;
  /** The trainer process's priority (default 'background': only CPU time the API and the emulators do not want). */
  trainerPriority?: TrainerPriority;
  /** Sign-in through the local issuer (key and users under `<dataDir>/auth`), verified like Cognito tokens. */
  auth?: boolean;
  /**
   * The origin browsers use (`http(s)://host[:port]`): token issuer, the app's only origin, every URL handed to
   * browsers. Default: the address the server listens on.
   */
  publicUrl?: string;
  /** Folder of the built web app; served at `/` when present. */
  webDir?: string;
  /** Share of served samples that are audit draws for projects without their own (default 1 in 10). */
  auditRate?: number;
  /** Custom model limits (default: env WINNOW_MODEL_MAX_BYTES, WINNOW_MODEL_TIMEOUT_MS, else 500 MB and 10 s per image). */
  modelLimits?: { maxBytes?: number; timeoutMs?: number };
  log?: Log;
  /** Ingest on a thread of its own (default) or on the main thread (false): pipeline.ts. */
  ingestThread?: PipelineOptions['ingestThread'];
  /** false: the API's DynamoDB calls run on its own thread, as before the store thread (for comparison). */
  storeThread?: boolean;
}

export interface LocalStack {
  /** The public origin (publicUrl, or the listening address). */
  url: string;
  /** Where this machine reaches the server (the listening address; 127.0.0.1 for a wildcard bind). */
  localUrl: string;
  /** What the emulators require: `aws` clients of the owner on this machine use these. */
  credentials: EmulatorCredentials;
  s3Endpoint: string;
  dynamoEndpoint: string;
  bucket: string;
  stores: Stores;
  ingest: IngestQueue;
  trainer: TrainerWorker;
  /** The API's serving ahead (its counts of how next requests were answered). */
  serveAhead: ServeAhead;
  /** Where the API's DynamoDB calls run, unless started with `storeThread: false` (its count of calls sent). */
  storeThread?: Pick<StoreThread, 'sent' | 'untilReady'>;
  close(): Promise<void>;
}

/**
 * Written to `<data>/stack.json` (mode 0600: it holds this start's emulator credentials) so the CLI and `aws s3 sync`
 * users on this machine can find the running stack.
 */
export interface StackInfo {
  /** The public origin (the token issuer's). */
  url: string;
  /** Where this machine reaches the server. */
  localUrl: string;
  /** The emulators' credentials for this start. */
  credentials: EmulatorCredentials;
  s3Endpoint: string;
  dynamoEndpoint: string;
  bucket: string;
  region: string;
  /** Whether the API wants tokens from the local issuer (the CLI then signs its own, as a local admin). */
  auth: boolean;
  pid: number;
}

export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const log: Log = opts.log ?? createLogger({ format: 'text' });
  await mkdir(opts.dataDir, { recursive: true });
  const credentials: EmulatorCredentials = opts.auth
    ? { accessKeyId: `WINNOW${randomBytes(10).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64url') }
    : LOCAL_CREDENTIALS;
  const fileSecret = await loadOrCreateFileSecret(opts.dataDir);
  // The API's DynamoDB calls run on a thread of their own (store-thread.ts), unless told otherwise; it loads meanwhile.
  const storeThread = opts.storeThread === false ? undefined : startStoreThread(log);
  // Both emulators start at once, on loopback whatever the server binds to; if one fails, the other is stopped
  // before the error is reported.
  const started = await Promise.allSettled([
    startDynaliteProcess({ dir: path.join(opts.dataDir, 'dynamodb'), port: opts.dynamoPort, host: '127.0.0.1', credentials }),
    // Only uploads are ingested: the derived files ingest writes back raise no event worth a trip between processes.
    startS3rverProcess({
      dir: path.join(opts.dataDir, 's3'),
      port: opts.s3Port,
      host: '127.0.0.1',
      bucket: LOCAL_BUCKET,
      eventPrefixes: ['uploads/'],
      // Ingest gets an upload's bytes with its event instead of reading them back (pipeline.ts).
      inlineBodyMax: INLINE_UPLOAD_MAX,
      credentials,
    }),
  ]);
  const [dynamoStart, s3Start] = started;
  if (dynamoStart.status === 'rejected' || s3Start.status === 'rejected') {
    for (const s of started) if (s.status === 'fulfilled') await s.value.close().catch(() => undefined);
    await storeThread?.close();
    throw dynamoStart.status === 'rejected' ? dynamoStart.reason : (s3Start as PromiseRejectedResult).reason;
  }
  const dynamo = dynamoStart.value;
  const s3 = s3Start.value;
  const closers: (() => Promise<void>)[] = [s3.close, dynamo.close];
  if (storeThread) closers.unshift(storeThread.close);
  try {
    const awsConfig = {
      region: LOCAL_REGION,
      endpoints: { dynamodb: dynamo.endpoint, s3: s3.endpoint },
      credentials,
      tables: DEFAULT_TABLE_NAMES,
      bucket: LOCAL_BUCKET,
    };
    const stores = createAwsStores(awsConfig, storeThread ? { doc: (inProcess) => storeThread.documentClient(awsConfig, inProcess) } : {});
    closers.unshift(async () => destroyAwsClients(stores.clients));
    // One long-lived process: a label is answered once written, its count applied just after (project-counter.ts).
    const samples = stores.samples as DynamoSampleStore;
    samples.countBehind(LOCAL_COUNT_BEHIND);
    // This process owns the emulator: a count mark already there is from a process that died mid-count.
    samples.writersDeadBefore(Date.now());
    closers.unshift(() => samples.settleCounts());
    await ensureTables(stores, DEFAULT_TABLE_NAMES, (message) => log(message));
    await ensureBucket(stores, LOCAL_BUCKET);

    // One long-lived API process: a label is answered once its annotation record is claimed, the head and the
    // labeler's progress completing just after (domain/label-completions.ts); labels a crash left open complete now.
    const journal = new FileLabelJournal(path.join(opts.dataDir, LABEL_JOURNAL_FILE));
    closers.unshift(async () => journal.release());
    await finishUnfinished(stores, journal, log);
    // Counts a crash left short are rebuilt now rather than a minute later: before serving while nothing else writes
    // (a recount reads every record, ~0.65 s per 10k samples), in the background for the largest projects (their
    // counts say "repairing" until it lands).
    const unfinished = await unfinishedCounts(stores);
    await repairCountsOf(stores, unfinished.filter((p) => p.samples <= REPAIR_BEFORE_SERVING).map((p) => p.projectId), log);
    const later = unfinished.filter((p) => p.samples > REPAIR_BEFORE_SERVING).map((p) => p.projectId);
    void repairCountsOf(stores, later, log).catch((err) => log(`counts: rebuild failed: ${(err as Error).message}`));
    const completions = labelCompletions(journal, log);
    closers.unshift(() => completions.drain());

    // Registered models: files cached by sha256 under the data folder (the cloud's ingest uses /tmp).
    const registry = new ModelRegistry(stores.blobs, path.join(opts.dataDir, 'models'));
    const { apiStores, trainer, ingest, close: stopPipeline } = startPipeline(stores, awsConfig, s3.events, {
      labelCompletions: completions,
      registry,
      analyzer: opts.analyzer,
      ingestConcurrency: opts.ingestConcurrency ?? DEFAULT_INGEST_CONCURRENCY,
      trainer: { ...opts.trainer, ...(opts.auditRate !== undefined ? { auditRate: opts.auditRate } : {}) },
      trainerPriority: opts.trainerPriority,
      log,
      ingestThread: opts.ingestThread,
    });
    closers.unshift(stopPipeline);
    // Browser URLs on the public origin, known once the server listens.
    let publicOrigin = opts.publicUrl ?? '';
    const fileUrls = new SignedFileUrls({ secret: fileSecret, origin: () => publicOrigin });
    const exportJobs = localExports(stores, LOCAL_BUCKET, opts.analyzer.status().embedder, log, fileUrls);
    closers.unshift(exportJobs.idle);
    // Retention per project (exports and originals kept N days, domain/retention.ts): at start and every hour.
    closers.unshift(scheduleRetention(apiStores, { log }).stop);

    const signIn = localSignIn(!!opts.auth, opts.authenticate);
    // One API process: each labeler's next sample can be leased while they look at the current one.
    const serveAhead = new ServeAhead(apiStores);
    const app = createLocalServer({
      stores: apiStores,
      featureVectors: shardFeatureVectors(apiStores.blobs, apiStores.clock),
      serveAhead,
      auditRate: opts.auditRate,
      authenticate: signIn.authenticate,
      authRoutes: signIn.routes,
      team: signIn.team,
      webDir: opts.webDir,
      objectUrls: fileUrls,
      publicOrigin: () => publicOrigin,
      files: createFileRoutes({ urls: fileUrls, s3: stores.clients.s3, bucket: LOCAL_BUCKET }),
      onLabeled: (projectId, sampleIds) => {
        serveAhead.labeled(projectId, sampleIds);
        trainer.labeled(projectId, sampleIds);
      },
      similar: (projectId, sampleId, k) => trainer.similar(projectId, sampleId, k),
      exports: exportJobs.deps,
      modelDir: opts.modelDir,
      models: createModelLab({ stores: apiStores, registry, ...opts.modelLimits, onEmbedderSwitched: (projectId) => trainer.ingested(projectId), log }),
      // Files synced before their project existed wait as pending; ingest them now.
      onProjectCreated: (projectId) => {
        void reconcileUploads(stores, ingest, log, `uploads/${projectId}/`).catch((err) => log(`reconcile failed: ${(err as Error).message}`));
      },
    });
    const server = await listen(app.fetch, opts.port, opts.host);
    closers.unshift(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const address = server.address() as AddressInfo;
    const hostPort = (host: string) => `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
    const localUrl = hostPort(opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host === '::' ? '::1' : opts.host);
    publicOrigin ||= hostPort(opts.host);
    const url = publicOrigin;
    await signIn.arm(opts.dataDir, url);

    const info: StackInfo = {
      url,
      localUrl,
      credentials,
      s3Endpoint: s3.endpoint,
      dynamoEndpoint: dynamo.endpoint,
      bucket: LOCAL_BUCKET,
      region: LOCAL_REGION,
      auth: !!opts.auth,
      pid: process.pid,
    };
    const infoFile = path.join(opts.dataDir, 'stack.json');
    await writeFile(infoFile, JSON.stringify(info, null, 2), { mode: 0o600 });
    await chmod(infoFile, 0o600); // an older file keeps its mode on rewrite
    // Events missed while the stack was down (or lost in a crash) are found by comparing the bucket with the tables.
    void reconcileUploads(stores, ingest, log).catch((err) => log(`reconcile failed: ${(err as Error).message}`));

    return {
      url: info.url,
      localUrl: info.localUrl,
      credentials: info.credentials,
      s3Endpoint: info.s3Endpoint,
      dynamoEndpoint: info.dynamoEndpoint,
      bucket: info.bucket,
      stores,
      ingest,
      trainer,
      serveAhead,
      storeThread,
      close: async () => {
        for (const close of closers) await close().catch(() => undefined);
      },
    };
  } catch (err) {
    for (const close of closers) await close().catch(() => undefined);
    throw err;
  }
}

/** Projects up to this many samples have counts a crash left short rebuilt before the restarted stack serves. */
const REPAIR_BEFORE_SERVING = 100_000;

/**
 * The completions of labels answered early. WINNOW_FAULT_HOLD_LABELS=1 (tests of a crash only) holds every one
 * forever after its journal line, as if the process always died right after answering.
 */
function labelCompletions(journal: FileLabelJournal, log: Log): LabelCompletions & { drain(): Promise<void> } {
  if (process.env.WINNOW_FAULT_HOLD_LABELS !== '1') return new LabelCompletionTracker(journal, log);
  log('WINNOW_FAULT_HOLD_LABELS=1: answered labels are never completed by this process (crash tests only)');
  return {
    begin: (label) => ({ token: journal.open(label), label }),
    complete: () => new Promise<void>(() => undefined),
    abandon: ({ token }) => journal.close(token),
    settled: async () => undefined,
    drain: async () => undefined,
  };
}

function listen(fetch: (req: Request) => Response | Promise<Response>, port: number, hostname: string): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port, hostname }, () => resolve(server));
    server.once('error', reject);
  });
}
