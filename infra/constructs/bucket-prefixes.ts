// Top-level folders of the data bucket, derived from the shared layout so grants and lifecycle rules follow it.

import { BUCKET_LAYOUT } from '../../functions/adapters/aws/schema.js';
import { auditPrefix } from '../../functions/domain/audit-log.js';
import { CLASSIFIERS_PREFIX } from '../../functions/domain/classifier-store.js';
import { MODEL_LAYOUT } from '../../functions/domain/models.js';

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
} as const;

/** Object-key pattern for `grant*` calls: every object under the folder. */
export const under = (prefix: string) => `${prefix}*`;
