// Page sizes and opaque cursors shared by every store adapter, so the fakes and the AWS adapters page alike.

import { badRequest } from '../domain/errors.js';

export const PAGE_LIMITS = {
  images: { default: 100, max: 1000 },
  samples: { default: 100, max: 1000 },
  queue: { default: 50, max: 1000 },
  annotations: { default: 500, max: 1000 },
  blobs: { default: 1000, max: 1000 },
} as const;

/** Clamps a caller's page size into [1, max]; absent means the default. */
export function pageLimit(limit: number | undefined, bounds: { default: number; max: number }): number {
  if (limit === undefined) return bounds.default;
  if (!Number.isInteger(limit) || limit < 1) throw badRequest(`page limit must be a positive integer, got ${limit}`);
  return Math.min(limit, bounds.max);
}

/** Cursors are base64url JSON of the last key returned: opaque to callers, meaningful only to the adapter that made them. */
export function encodeCursor(key: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): Record<string, string | number> {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length > 0 && entries.every(([, v]) => typeof v === 'string' || typeof v === 'number')) {
        return value as Record<string, string | number>;
      }
    }
  } catch {
    // fall through to the readable error below
  }
  throw invalidCursor();
}

export const invalidCursor = () => badRequest('invalid page cursor');
