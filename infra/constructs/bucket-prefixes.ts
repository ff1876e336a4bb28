// Top-level folders of the data bucket, derived from the shared layout so grants and lifecycle rules follow it, and
// which of them each cloud function may read, write or delete (FUNCTION_ACCESS). The constructs grant exactly what
// that table says (`grantBucketAccess`) and test/infra/bucket-access.test.ts checks the synthesized policies against
// it: local tests run on emulators that enforce no IAM, so this table is where a missing grant is caught.

import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { BUCKET_LAYOUT } from '../../functions/adapters/aws/schema.js';
import type { CloudFunction } from '../../functions/adapters/aws/env.js';
import { ACCOUNTS_PREFIX } from '../../functions/auth/account-states.js';
import { auditPrefix } from '../../functions/domain/audit-log.js';
import { autolabelKeys } from '../../functions/domain/autolabel.js';
import { CLASSIFIERS_PREFIX } from '../../functions/domain/classifier-store.js';
import { DELETIONS_PREFIX } from '../../functions/domain/deletion.js';
import { MODEL_LAYOUT } from '../../functions/domain/models.js';
import type { S3_GRANT_ACTIONS } from '../nag.js';

const topFolder = (key: string) => `${key.split('/')[0]}/`;

export const PREFIXES = {
  uploads: BUCKET_LAYOUT.uploadsPrefix,
  derived: topFolder(BUCKET_LAYOUT.derivedKey('p', 'i', 'thumb')),
  embeddings: topFolder(BUCKET_LAYOUT.embeddingsPrefix('p')),
  exports: topFolder(BUCKET_LAYOUT.exportsPrefix('p')),
  /** Audit log entries (functions/domain/audit-log.ts): outlive a project's deletion. */
  audit: topFolder(auditPrefix('p')),
  /** Registered models (files by sha256, registrations, uploads being inspected, re-embed jobs; domain/models.ts). */
  models: topFolder(MODEL_LAYOUT.recordPrefix),
  /** The model each project's ranking was made with, saved by the trainer (domain/classifier-store.ts). */
  classifiers: CLASSIFIERS_PREFIX,
  /** The auto-labeler's calibration basis (saved by the trainer) and its batches (domain/autolabel.ts). */
  autolabel: topFolder(autolabelKeys.basis('p')),
  /** Deletion job records, resumable after a crash (domain/deletion.ts). */
  deletions: DELETIONS_PREFIX,
  /** Each user's account state as the API checks it on every request (functions/auth/account-states.ts). */
  accounts: ACCOUNTS_PREFIX,
} as const;

export type BucketFolder = keyof typeof PREFIXES;

/** Object-key pattern for `grant*` calls: every object under the folder. */
export const under = (prefix: string) => `${prefix}*`;

/**
 * What a function does to the objects of a folder. `read` is GetObject (get, head, a presigned GET, a ranged read);
 * listing is ListBucket on the whole bucket, which IAM cannot narrow to a folder without conditions, and comes with
 * any read. `write` is PutObject (put, a presigned PUT, multipart uploads and their abort). `delete` is DeleteObject
 * (delete, DeleteObjects, which asks for DeleteObject on every key and reports AccessDenied per key).
 */
export type ObjectAccess = 'read' | 'write' | 'delete';

export interface FolderAccess {
  readonly actions: readonly ObjectAccess[];
  /** Which code needs it, for the next reader of this table. */
  readonly why: string;
}

/**
 * Per cloud function (its Lambda entry point and everything it reaches), each bucket folder its code touches and how.
 * A folder left out is out of reach. Read from the code's blob calls (`blobs.put/get/head/delete/deleteMany/list`,
 * presigned URLs, the export's S3 streams) in the modules each entry point bundles.
 */
export const FUNCTION_ACCESS: Record<CloudFunction, Partial<Record<BucketFolder, FolderAccess>>> = {
  // functions/api/lambda.ts: the Hono app. It starts deletion jobs (writes their records) but never runs them: the
  // export function does (functions/deletion/worker.ts), so the API deletes no original, derived file or shard.
  api: {
    uploads: {
      actions: ['read', 'write'],
      why: 'presigned PUTs of originals (routes/uploads.ts), presigned GETs of originals shown as such (present.ts, routes/images.ts), heads by label and feature imports (interchange/import/match.ts, import-features.ts)',
    },
    derived: {
      actions: ['read'],
      why: 'presigned GETs of thumbnails and display copies (present.ts, routes/gallery.ts)',
    },
    embeddings: {
      actions: ['read', 'write'],
      why: 'feature imports read a shard for its dims and append shards (routes/features.ts); the classifier export re-fits on them when no saved model fits (export/model-classifier.ts, read only); the similar route reads a project\'s shards into memory (trainer/similar-in-memory.ts, read only)',
    },
    exports: {
      actions: ['read', 'write'],
      why: 'export job status written when a job starts and read back, presigned downloads (interchange/export/job.ts)',
    },
    audit: {
      actions: ['read', 'write'],
      why: "owners' actions are appended, listed and exported (audit-log.ts); never deleted: the entries outlive their project",
    },
    models: {
      actions: ['read', 'write', 'delete'],
      why: 'bring your own model: presigned PUT of an upload, inspection reads it, stores the file by sha256 and the registration, deletes the upload and unregistered files (routes/models.ts); re-embed job records read; registered embedders read by the classifier export (export/model-export.ts)',
    },
    classifiers: {
      actions: ['read'],
      why: "the trainer's saved model is read by the classifier export (classifier-store.ts via export/model-classifier.ts)",
    },
    autolabel: {
      actions: ['read', 'write'],
      why: 'preview and run read the basis the trainer saved, run and undo write and list batches (autolabel.ts)',
    },
    deletions: {
      actions: ['read', 'write'],
      why: 'a deletion job record is written when an owner starts one, read for its status, listed for an unfinished one to continue (deletion.ts start*, deletionStatus); the export function runs it',
    },
    accounts: {
      actions: ['read', 'write'],
      why: "each request's account check reads the user's stored state; team routes write it after changing Cognito (auth/account-states.ts); never deleted (a removed user's state says so)",
    },
  },
  // functions/ingest/lambda.ts: ObjectCreated -> ingest; ObjectRemoved -> the image's deletion job, written here and
  // sent on the export queue (deletion.ts originalRemoved, deletion/sqs-runner.ts): the export function deletes.
  ingest: {
    uploads: {
      actions: ['read'],
      why: 'reads the original it ingests (domain/ingest.ts head, get); an ObjectRemoved event checks the key holds no object again (deletion.ts originalRemoved head); never deletes (the export function runs the deletion job)',
    },
    derived: {
      actions: ['write'],
      why: 'writes the thumbnail and display copy (domain/ingest.ts); never deletes them (a removed original\'s are deleted by its deletion job, run by the export function)',
    },
    embeddings: {
      actions: ['read', 'write'],
      why: "appends a shard per batch (ingest/embedding-sink.ts); never deletes (a removed original's rows are taken out by its deletion job, run by the export function)",
    },
    models: {
      actions: ['read'],
      why: "projects' registered detectors and embedders and their class lists, fetched into /tmp by sha256 (vision/registry.ts)",
    },
    deletions: {
      actions: ['write'],
      why: 'writes the job record of an image deletion started by an ObjectRemoved event (deletion.ts originalRemoved createJob); the export function runs it and moves it to done/',
    },
  },
  // functions/trainer/lambda.ts: retrainProject (domain/retrain.ts).
  trainer: {
    embeddings: {
      actions: ['read', 'write', 'delete'],
      why: 'lists and reads shards into the matrix (adapters/embeddings/reader.ts); compaction writes merged shards and deletes its inputs (adapters/embeddings/compactor.ts)',
    },
    classifiers: {
      actions: ['write'],
      why: 'saves the model each ranking was made with, for the classifier export (classifier-store.ts saveLiveClassifier)',
    },
    autolabel: {
      actions: ['write'],
      why: "saves the auto-labeler's calibration basis after storing the ranking (autolabel.ts saveAutolabelBasis)",
    },
  },
  // functions/export/lambda.ts: runExport (interchange/export/job.ts), then the retention sweep (domain/retention.ts),
  // which deletes expired exports and runs image deletions (deletion.ts runImages) for originals past retention; and
  // the deletion jobs owners start through the API (functions/deletion/worker.ts: images, a labeler's work, projects).
  export: {
    uploads: {
      actions: ['read', 'delete'],
      why: "copies originals into the archive (adapters/export/images.ts); deletion jobs and the retention sweep's delete originals (deletion.ts hideImages, sweepProject)",
    },
    derived: {
      actions: ['delete'],
      why: 'deletion jobs remove thumbnails and display copies (deletion.ts sweepImages, sweepProject)',
    },
    embeddings: {
      actions: ['read', 'write', 'delete'],
      why: "lists shards and reads their rows by range for the embeddings export (adapters/export/embedding-shards.ts); deletion jobs rewrite shards without the deleted rows and remove a deleted project's (adapters/embeddings/shards.ts removeSampleRows through stores.embeddings, deletion.ts sweepProject)",
    },
    exports: {
      actions: ['read', 'write', 'delete'],
      why: 'streams the archive as a multipart upload (aborted on failure) and reads and rewrites the job status (adapters/export/s3-objects.ts, interchange/export/job.ts); the retention sweep lists exports and deletes expired ones (retention.ts); removed with their project (deletion.ts sweepProject)',
    },
    audit: {
      actions: ['write'],
      why: 'the retention sweep records what it deleted (retention.ts, audit-log.ts recordAudit); never deleted',
    },
    models: {
      actions: ['delete'],
      why: "a deleted project's re-embed job record (MODEL_LAYOUT.reembedJob) goes with it (deletion.ts sweepProject)",
    },
    classifiers: {
      actions: ['delete'],
      why: "a deleted project's saved classifier goes with it (deletion.ts sweepProject)",
    },
    autolabel: {
      actions: ['delete'],
      why: "a deleted project's auto-label basis and batches go with it (deletion.ts sweepProject)",
    },
    deletions: {
      actions: ['read', 'write', 'delete'],
      why: 'deletion job records: read to run a job from where it got to, progress written, listed to resume, moved to done/, a project job\'s and the earlier ones of a deleted project removed (deletion.ts)',
    },
  },
};

/** The IAM action each kind of access is checked with (what the template must allow, and nothing more). */
export const OBJECT_ACTION: Record<ObjectAccess, string> = {
  read: 's3:GetObject',
  write: 's3:PutObject',
  delete: 's3:DeleteObject',
};

/** The wildcard actions cdk-nag reports for each `grant*` call below (acknowledged on the function's role). */
const NAG_ACTIONS: Record<ObjectAccess, (keyof typeof S3_GRANT_ACTIONS)[]> = {
  read: ['s3:GetObject*', 's3:GetBucket*', 's3:List*'],
  write: ['s3:Abort*'],
  delete: ['s3:DeleteObject*'],
};

/** Grants `fn` exactly its row of FUNCTION_ACCESS on the bucket; returns what to acknowledge to cdk-nag. */
export function grantBucketAccess(
  bucket: IBucket,
  grantee: IGrantable,
  fn: CloudFunction,
): { objectPatterns: string[]; s3Actions: (keyof typeof S3_GRANT_ACTIONS)[] } {
  const objectPatterns: string[] = [];
  const s3Actions = new Set<keyof typeof S3_GRANT_ACTIONS>();
  for (const [folder, access] of Object.entries(FUNCTION_ACCESS[fn]) as [BucketFolder, FolderAccess][]) {
    const pattern = under(PREFIXES[folder]);
    objectPatterns.push(pattern);
    for (const action of access.actions) {
      if (action === 'read') bucket.grantRead(grantee, pattern);
      else if (action === 'write') bucket.grantPut(grantee, pattern);
      else bucket.grantDelete(grantee, pattern);
      for (const nag of NAG_ACTIONS[action]) s3Actions.add(nag);
    }
  }
  return { objectPatterns, s3Actions: [...s3Actions] };
}
