// The DynamoDB tables and the S3 bucket layout, shared by the adapters, the local stack (which creates them)
// and the CDK stack (which provisions them). Change a key here and every place follows.

export interface TableNames {
  projects: string;
  samples: string;
  annotations: string;
  labelers: string;
}

/** Environment variable names through which functions learn table and bucket names. */
export const ENV = {
  projectsTable: 'WINNOW_PROJECTS_TABLE',
  samplesTable: 'WINNOW_SAMPLES_TABLE',
  annotationsTable: 'WINNOW_ANNOTATIONS_TABLE',
  labelersTable: 'WINNOW_LABELERS_TABLE',
  bucket: 'WINNOW_BUCKET',
} as const;

export const DEFAULT_TABLE_NAMES: TableNames = {
  projects: 'winnow-projects',
  samples: 'winnow-samples',
  annotations: 'winnow-annotations',
  labelers: 'winnow-labelers',
};

export const DEFAULT_BUCKET = 'winnow-local';

export interface KeyAttr {
  name: string;
  type: 'S' | 'N' | 'B';
}

export interface TableSchema {
  partitionKey: KeyAttr;
  sortKey?: KeyAttr;
  /** `include`: the index holds only these attributes besides the keys (INCLUDE projection); else every attribute. */
  indexes: { name: string; partitionKey: KeyAttr; sortKey?: KeyAttr; include?: string[] }[];
}

/**
 * projects:    pk = projectId.
 * samples:     pk = projectId, sk = `i#<imageId>` (image) | `s#<sampleId>` (sample).
 *              GSI `queue`: pk = projectId, sk = queueKey, sparse: only samples that still need labels.
 * annotations: pk = `<projectId>#<sampleId>`, sk = version (N). Append-only; (sample, version) is claimed once.
 *              GSI `byProject`: pk = projectId, sk = `<sampleId>#<version>` (export order).
 *              GSI `served`: pk = projectId, sk = servedKey `<at>#<sampleId>#<version>`, sparse: served labels only.
 * labelers:    pk = projectId, sk = labelerId.
 */
export const TABLE_SCHEMAS: Record<keyof TableNames, TableSchema> = {
  projects: { partitionKey: { name: 'projectId', type: 'S' }, indexes: [] },
  samples: {
    partitionKey: { name: 'projectId', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    indexes: [{ name: 'queue', partitionKey: { name: 'projectId', type: 'S' }, sortKey: { name: 'queueKey', type: 'S' } }],
  },
  annotations: {
    partitionKey: { name: 'sampleKey', type: 'S' },
    sortKey: { name: 'version', type: 'N' },
    indexes: [
      // Export and review read a project's annotations without scanning the table.
      { name: 'byProject', partitionKey: { name: 'projectId', type: 'S' }, sortKey: { name: 'sortKey', type: 'S' } },
      // The quality chart reads the newest served labels (sparse: only label records with a served live point).
      // Only what the chart reads: a small item per served label.
      { name: 'served', partitionKey: { name: 'projectId', type: 'S' }, sortKey: { name: 'servedKey', type: 'S' }, include: ['sampleId', 'at', 'live'] },
    ],
  },
  labelers: { partitionKey: { name: 'projectId', type: 'S' }, sortKey: { name: 'labelerId', type: 'S' }, indexes: [] },
};

// The bucket layout is part of the domain (ingest writes derived files); re-exported here for adapters and infra.
export { BUCKET_LAYOUT, parseUploadKey } from '../../domain/layout.js';
