// Each cloud function may do to the data bucket exactly what its code does (issues 13, 16, 18 in the cloud). Local
// tests run the handlers on emulators that enforce no IAM, so a missing grant only shows as AccessDenied after a
// deploy: a retrain that stores its ranking and then fails saving the auto-label basis, a project deletion that
// stops at the first original. Here the synthesized template's IAM policies are evaluated like IAM matches them
// (action and resource wildcards) against one table, FUNCTION_ACCESS (infra/constructs/bucket-prefixes.ts), which
// the constructs also grant from; the table is checked against the code's own key builders, and the modules each
// entry point bundles that touch the bucket are pinned so that new bucket code is noticed.

import { readFileSync } from 'node:fs';
import { build } from 'esbuild';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { BUCKET_LAYOUT } from '../../functions/adapters/aws/schema.js';
import type { CloudFunction } from '../../functions/adapters/aws/env.js';
import { auditPrefix } from '../../functions/domain/audit-log.js';
import { autolabelKeys } from '../../functions/domain/autolabel.js';
import { classifierKey } from '../../functions/domain/classifier-store.js';
import { DELETIONS_PREFIX, projectPrefixes } from '../../functions/domain/deletion.js';
import { ACCOUNTS_PREFIX } from '../../functions/auth/account-states.js';
import { exportKeys } from '../../functions/domain/interchange/export/job.js';
import { MODEL_LAYOUT } from '../../functions/domain/models.js';
import { PATHS } from '../../infra/paths.js';
import {
  FUNCTION_ACCESS,
  OBJECT_ACTION,
  PREFIXES,
  type BucketFolder,
  type ObjectAccess,
} from '../../infra/constructs/bucket-prefixes.js';
import { policyStatements } from './support/iam.js';
import { logicalId, synthOnce } from './support/synth.js';

const s = synthOnce({ stage: 'dev', nag: true });

const FUNCTIONS = ['api', 'ingest', 'trainer', 'export'] as const satisfies readonly CloudFunction[];
const ACCESSES: ObjectAccess[] = ['read', 'write', 'delete'];
const FOLDERS = Object.keys(PREFIXES) as BucketFolder[];

const roleOf = (fn: CloudFunction) => {
  const f = { api: s.stack.api.fn, ingest: s.stack.ingest.fn, trainer: s.stack.trainer.fn, export: s.stack.exports.fn }[fn];
  return logicalId(s.stack, (f as { role?: IConstruct }).role as never);
};
const bucketArn = () => `arn:bucket:${logicalId(s.stack, s.stack.data.bucket)}`;

/** A statement's resource as an ARN pattern: the bucket's `Fn::GetAtt` becomes `arn:bucket:<id>`, joins are joined. */
function resourcePattern(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, any>;
  if (v['Fn::GetAtt']) return `arn:bucket:${v['Fn::GetAtt'][0]}`;
  if (v['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).map(resourcePattern).join(v['Fn::Join'][0]);
  return `<unresolved ${JSON.stringify(value)}>`;
}
const glob = (pattern: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i');

/** Whether the function's role may do `action` on `arn` (Allow statements only; the stack writes no Deny). */
function may(fn: CloudFunction, action: string, arn: string): boolean {
  return policyStatements(s.resources).some(
    ({ roles, statement }) =>
      roles.includes(roleOf(fn)) &&
      statement.Effect === 'Allow' &&
      [statement.Action].flat().some((a) => glob(a).test(action)) &&
      [statement.Resource].flat().some((r) => glob(resourcePattern(r)).test(arn)),
  );
}
/** An object somewhere under the folder, as a project would have it. */
const objectIn = (prefix: string) => `${bucketArn()}/${prefix}some-project/some/object.json`;
const folderOf = (key: string): BucketFolder => {
  const folder = FOLDERS.find((f) => key.startsWith(PREFIXES[f]));
  if (!folder) throw new Error(`${key} is under no folder of PREFIXES`);
  return folder;
};
const has = (fn: CloudFunction, key: string, access: ObjectAccess) =>
  FUNCTION_ACCESS[fn][folderOf(key)]?.actions.includes(access) ?? false;

describe('the template allows exactly FUNCTION_ACCESS', () => {
  describe.each(FUNCTIONS)('%s', (fn) => {
    it.each(FOLDERS)('on %s/', (folder) => {
      const wanted = FUNCTION_ACCESS[fn][folder]?.actions ?? [];
      const granted = ACCESSES.filter((access) => may(fn, OBJECT_ACTION[access], objectIn(PREFIXES[folder])));
      expect(granted, `${fn} on ${PREFIXES[folder]}`).toEqual(ACCESSES.filter((a) => wanted.includes(a)));
    });

    it('nothing on objects outside those folders (another folder, the bucket root)', () => {
      for (const arn of [objectIn('elsewhere/'), `${bucketArn()}/loose.json`]) {
        for (const access of ACCESSES) expect(may(fn, OBJECT_ACTION[access], arn), `${access} ${arn}`).toBe(false);
      }
    });

    it('may list the bucket (paging through a project folder) exactly when it reads a folder', () => {
      const reads = Object.values(FUNCTION_ACCESS[fn]).some((a) => a?.actions.includes('read'));
      expect(may(fn, 's3:ListBucket', bucketArn())).toBe(reads);
    });
  });

  it('says why for every entry', () => {
    for (const fn of FUNCTIONS) {
      for (const [folder, access] of Object.entries(FUNCTION_ACCESS[fn])) {
        expect(access!.actions.length, `${fn} ${folder}`).toBeGreaterThan(0);
        expect(access!.why.length, `${fn} ${folder}`).toBeGreaterThan(30);
      }
    }
  });
});

describe("FUNCTION_ACCESS covers what the code's key builders address", () => {
  it('every folder the code writes to is one of PREFIXES', () => {
    const keys = [
      BUCKET_LAYOUT.uploadKey('p', 'a.jpg'),
      BUCKET_LAYOUT.derivedKey('p', 'i', 'display'),
      BUCKET_LAYOUT.embeddingsPrefix('p'),
      exportKeys('p', 'e', 'f.zip').file,
      auditPrefix('p'),
      MODEL_LAYOUT.file('0'.repeat(64)),
      MODEL_LAYOUT.record('m'),
      MODEL_LAYOUT.upload('u'),
      MODEL_LAYOUT.reembedJob('p'),
      classifierKey('p'),
      autolabelKeys.basis('p'),
      autolabelKeys.batch('p', 'b'),
      `${DELETIONS_PREFIX}p/job.json`,
      `${ACCOUNTS_PREFIX}olga.json`,
      ...projectPrefixes('p'),
    ];
    for (const key of keys) expect(() => folderOf(key)).not.toThrow();
  });

  it('the trainer may read and compact embeddings, save the classifier and the auto-label basis (domain/retrain.ts)', () => {
    for (const access of ACCESSES) expect(has('trainer', BUCKET_LAYOUT.embeddingsPrefix('p'), access), access).toBe(true);
    expect(has('trainer', classifierKey('p'), 'write')).toBe(true);
    expect(has('trainer', autolabelKeys.basis('p'), 'write')).toBe(true);
  });

  it('the API may preview, run and undo auto-labeling (autolabel.ts)', () => {
    expect(has('api', autolabelKeys.basis('p'), 'read')).toBe(true);
    for (const access of ['read', 'write'] as const) expect(has('api', autolabelKeys.batch('p', 'b'), access), access).toBe(true);
  });

  it('the export function, which runs deletion jobs, may delete everything a project deletion sweeps and keep its job records (deletion.ts)', () => {
    for (const prefix of [...projectPrefixes('p'), `${DELETIONS_PREFIX}p/`]) {
      expect(has('export', prefix, 'delete'), prefix).toBe(true);
    }
    for (const access of ACCESSES) expect(has('export', `${DELETIONS_PREFIX}p/job.json`, access), access).toBe(true);
    // Shards keep other images' rows: they are rewritten without the deleted ones.
    for (const access of ['read', 'write'] as const) expect(has('export', BUCKET_LAYOUT.embeddingsPrefix('p'), access), access).toBe(true);
  });

  it('the API starts deletion jobs but deletes no original, derived file, shard, export or job record itself (functions/deletion/worker.ts runs them)', () => {
    for (const access of ['read', 'write'] as const) expect(has('api', `${DELETIONS_PREFIX}p/job.json`, access), access).toBe(true);
    for (const key of [BUCKET_LAYOUT.uploadKey('p', 'a.jpg'), BUCKET_LAYOUT.derivedKey('p', 'i', 'thumb'), BUCKET_LAYOUT.embeddingsPrefix('p'), exportKeys('p', 'e', 'f.zip').file, classifierKey('p'), autolabelKeys.basis('p'), `${DELETIONS_PREFIX}p/job.json`]) {
      expect(has('api', key, 'delete'), key).toBe(false);
    }
  });

  it('only export (deletion jobs, the retention sweep) may run an image deletion (deletion.ts runImages)', () => {
    for (const fn of FUNCTIONS) {
      expect(has(fn, BUCKET_LAYOUT.uploadKey('p', 'a.jpg'), 'delete'), `${fn} original`).toBe(fn === 'export');
    }
    for (const v of ['thumb', 'display'] as const) expect(has('export', BUCKET_LAYOUT.derivedKey('p', 'i', v), 'delete'), `export ${v}`).toBe(true);
    for (const access of ['read', 'write'] as const) expect(has('export', BUCKET_LAYOUT.embeddingsPrefix('p'), access), `export shards ${access}`).toBe(true);
    for (const access of ACCESSES) expect(has('export', `${DELETIONS_PREFIX}p/job.json`, access), `export job ${access}`).toBe(true);
  });

  it('ingest deletes nothing: an original removed from the bucket has its job written and queued for export (deletion.ts originalRemoved)', () => {
    for (const key of [BUCKET_LAYOUT.uploadKey('p', 'a.jpg'), BUCKET_LAYOUT.derivedKey('p', 'i', 'thumb'), BUCKET_LAYOUT.derivedKey('p', 'i', 'display'), BUCKET_LAYOUT.embeddingsPrefix('p'), `${DELETIONS_PREFIX}p/job.json`]) {
      expect(has('ingest', key, 'delete'), key).toBe(false);
    }
    expect(has('ingest', `${DELETIONS_PREFIX}p/job.json`, 'write')).toBe(true);
  });

  it('the audit log outlives its project: nothing may delete it', () => {
    for (const fn of FUNCTIONS) expect(has(fn, auditPrefix('p'), 'delete'), fn).toBe(false);
  });
});

describe('the modules each entry point bundles that touch the bucket', () => {
  // Reviewed against FUNCTION_ACCESS: when this list changes, read the new module's blob calls and update the table.
  const REVIEWED: Record<CloudFunction, string[]> = {
    api: [
      'functions/adapters/embeddings/compactor.ts',
      'functions/adapters/embeddings/reader.ts',
      'functions/adapters/embeddings/shards.ts',
      'functions/adapters/embeddings/store.ts',
      'functions/adapters/export/embedding-shards.ts',
      'functions/adapters/export/images.ts',
      'functions/adapters/export/s3-objects.ts',
      'functions/adapters/export/service.ts',
      'functions/api/present.ts',
      'functions/api/routes/gallery.ts',
      'functions/api/routes/images.ts',
      'functions/api/routes/models.ts',
      'functions/api/routes/uploads.ts',
      'functions/auth/account-states.ts',
      'functions/domain/audit-log.ts',
      'functions/domain/autolabel.ts',
      'functions/domain/classifier-store.ts',
      'functions/domain/deletion.ts',
      'functions/domain/import-features.ts',
      'functions/domain/ingest.ts',
      'functions/domain/interchange/export/job.ts',
      'functions/domain/interchange/import/match.ts',
      'functions/export/model-classifier.ts',
      'functions/export/model-export.ts',
    ],
    ingest: [
      // The stores' embeddings port (deletion.ts removes a deleted image's rows through it; compaction is unused here).
      'functions/adapters/embeddings/compactor.ts',
      'functions/adapters/embeddings/reader.ts',
      'functions/adapters/embeddings/shards.ts',
      'functions/adapters/embeddings/store.ts',
      'functions/domain/classifier-store.ts',
      'functions/domain/deletion.ts',
      'functions/domain/ingest.ts',
      'functions/vision/registry.ts',
    ],
    trainer: [
      'functions/adapters/embeddings/compactor.ts',
      'functions/adapters/embeddings/reader.ts',
      'functions/adapters/embeddings/shards.ts',
      'functions/adapters/embeddings/store.ts',
      'functions/domain/autolabel.ts',
      'functions/domain/classifier-store.ts',
    ],
    export: [
      // The stores' embeddings port (deletion.ts removes deleted images' rows through it; compaction is unused here).
      'functions/adapters/embeddings/compactor.ts',
      'functions/adapters/embeddings/reader.ts',
      'functions/adapters/embeddings/shards.ts',
      'functions/adapters/embeddings/store.ts',
      'functions/adapters/export/embedding-shards.ts',
      'functions/adapters/export/images.ts',
      'functions/adapters/export/s3-objects.ts',
      'functions/adapters/export/service.ts',
      // The retention sweep after each job (retention.ts) and the image deletions it runs (deletion.ts, which takes
      // only key and id builders from classifier-store.ts and ingest.ts).
      'functions/domain/audit-log.ts',
      'functions/domain/classifier-store.ts',
      'functions/domain/deletion.ts',
      'functions/domain/ingest.ts',
      'functions/domain/interchange/export/job.ts',
      'functions/domain/retention.ts',
    ],
  };
  const ENTRIES: Record<CloudFunction, string> = {
    api: 'functions/api/lambda.ts',
    ingest: 'functions/ingest/lambda.ts',
    trainer: 'functions/trainer/lambda.ts',
    export: 'functions/export/lambda.ts',
  };
  /** The bucket adapters themselves: they carry out calls, the modules above choose the keys. */
  const ADAPTERS = new Set(['functions/domain/ports.ts', 'functions/adapters/aws/blobs.ts', 'functions/adapters/aws/get-object.ts', 'functions/adapters/aws/object-urls.ts', 'functions/adapters/aws/presigner.ts']);
  const BUCKET_CALL =
    /\b(blobs|this\.blobs)\.(put|get|head|delete|deleteMany|list|presignGet|presignPut)\(|\b(getUrl|putUrl|presignDownload|readRange)\(|new (GetObject|PutObject|DeleteObjects?|ListObjectsV2|HeadObject|CopyObject|CreateMultipartUpload|UploadPart|CompleteMultipartUpload|AbortMultipartUpload)Command\b|new Upload\(/;

  it.each(FUNCTIONS)('%s: as reviewed', async (fn) => {
    const bundle = await build({
      entryPoints: [ENTRIES[fn]],
      absWorkingDir: PATHS.repoRoot,
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const touching = Object.keys(bundle.metafile.inputs)
      .filter((f) => f.startsWith('functions/') && !ADAPTERS.has(f))
      .filter((f) => BUCKET_CALL.test(readFileSync(`${PATHS.repoRoot}/${f}`, 'utf8')))
      .sort();
    expect(touching, `modules of ${ENTRIES[fn]} with bucket calls: check FUNCTION_ACCESS.${fn} against any new one`).toEqual(REVIEWED[fn]);
  });
});
