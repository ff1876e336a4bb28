// Top-level folders of the data bucket, derived from the shared layout so grants and lifecycle rules follow it.

import { BUCKET_LAYOUT } from '../../functions/adapters/aws/schema.js';
import { auditPrefix } from '../../functions/domain/audit-log.js';

const topFolder = (key: string) => `${key.split('/')[0]}/`;

export const PREFIXES = {
  uploads: BUCKET_LAYOUT.uploadsPrefix,
  derived: topFolder(BUCKET_LAYOUT.derivedKey('p', 'i', 'thumb')),
  embeddings: topFolder(BUCKET_LAYOUT.embeddingsPrefix('p')),
  exports: topFolder(BUCKET_LAYOUT.exportsPrefix('p')),
  /** Audit log entries (functions/domain/audit-log.ts): outlive a project's deletion. */
  audit: topFolder(auditPrefix('p')),
} as const;

/** Object-key pattern for `grant*` calls: every object under the folder. */
export const under = (prefix: string) => `${prefix}*`;
