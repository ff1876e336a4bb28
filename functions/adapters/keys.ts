// Storage keys (see TABLE_SCHEMAS in aws/schema.ts). The fakes order records by these same keys so that listing
// order, queue order and export order are identical to the tables'.

import type { Annotation } from '../domain/model.js';

export const imageSk = (imageId: string) => `i#${imageId}`;
export const sampleSk = (sampleId: string) => `s#${sampleId}`;
export const IMAGE_SK_PREFIX = 'i#';
export const SAMPLE_SK_PREFIX = 's#';

export const annotationSampleKey = (projectId: string, sampleId: string) => `${projectId}#${sampleId}`;
/** Export order: by sample, then version (zero-padded so string order is numeric order). */
export const annotationSortKey = (sampleId: string, version: number) => `${sampleId}#${String(version).padStart(10, '0')}`;

/**
 * The quality chart's order of served label records (annotations' `served` index): by time, then as the export
 * orders them. Only label records with a served (non-audit) live point carry it.
 */
export const servedSortKey = (a: Pick<Annotation, 'kind' | 'live' | 'at' | 'sampleId' | 'version'>): string | undefined =>
  a.kind === 'label' && a.live && !a.live.audit ? `${a.at}#${annotationSortKey(a.sampleId, a.version)}` : undefined;

/** DynamoDB and S3 order string keys by their UTF-8 bytes, not by JavaScript's UTF-16 comparison. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
