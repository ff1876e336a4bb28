import type { Logger } from '../adapters/log.js';
import type { DeletionRunner } from '../domain/deletion.js';
import type { ExportDeps } from '../domain/interchange/export/job.js';
import type { FeatureVectors } from '../domain/import-features.js';
import type { ModelLab } from '../domain/models.js';
import type { ObjectUrls, Stores } from '../domain/ports.js';
import type { ServeAhead } from '../domain/serving/lease-ahead.js';
import type { UserDirectory } from '../domain/team.js';

export interface Identity {
  userId: string;
  groups: string[];
}

/** Turns a request into an identity, or throws WinnowError('unauthorized'). */
export type Authenticate = (request: Request) => Promise<Identity>;

export interface ApiDeps {
  stores: Stores;
  authenticate: Authenticate;
  /** How long a served sample stays reserved for its labeler (default 10 min). */
  leaseMs?: number;
  /** Lease each labeler's next sample ahead of their request (single-process deployments: the local stack). */
  serveAhead?: ServeAhead;
  /** URLs for browsers (images, uploads); default: the blob store's presigned URLs. The local stack signs its own. */
  objectUrls?: ObjectUrls;
  /** Share of served samples that are audit draws for projects without their own rate (default 1 in 10). */
  auditRate?: number;
  /** Lifetime of presigned image URLs (default 15 min). */
  presignTtlSeconds?: number;
  /** Called after a project is created, e.g. to ingest files uploaded to its prefix before it existed. */
  onProjectCreated?: (projectId: string) => void;
  /** Nearest neighbours of a sample by embedding (cosine), best first. */
  similar?: (projectId: string, sampleId: string, k: number) => Promise<{ sampleId: string; similarity: number }[]>;
  /** Called after labels change (label or undo), to trigger retraining. */
  onLabeled?: (projectId: string, sampleIds: string[]) => void;
  /** Where unexpected failures are logged with their request id (default: readable lines on the console). */
  log?: Logger;
  /** Custom models (inspect, trial, re-embed: functions/vision/model-lab.ts); absent, the model routes answer 503. */
  models?: ModelLab;
  /** Folder of the shipped models' ONNX files, read by the classifier export (npm start's; absent, a shipped embedder is not exported). */
  modelDir?: string;
  /** Where deletion jobs run (cloud: the export queue and function); default: in this process, behind the 202. */
  deletions?: DeletionRunner;
  /** Export jobs (storage, runner); absent, the export routes answer 503. */
  exports?: ExportDeps;
  /** User accounts owners manage from the app (local users file or Cognito); absent, the account routes answer 409. */
  team?: UserDirectory;
  /** Where imported feature vectors are stored (the trainer's embedding shards: adapters/embeddings/store.ts). */
  featureVectors: FeatureVectors;
}

export interface AppEnv {
  Variables: { requestId: string; identity: Identity; deps: ApiDeps };
}
