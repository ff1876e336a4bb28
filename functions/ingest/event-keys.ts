// Upload events name the object they are about, but each source spells the key its own way, so each adapter
// turns its records into `UploadEvent`s (the object's real key) before the shared handler sees them:
// - the cloud (S3 -> SQS -> Lambda, and S3 -> Lambda): S3 notifications carry the key URL-encoded, form style
//   ('+' for a space, '%2B' for a plus, '%25' for a percent sign);
// - the local stack (s3rver's `event`, and reconcile-on-start): the key as it is, never encoded.
// Decoding never throws: a record whose key cannot be decoded, or that has no key, is returned as rejected with
// the reason, for the caller to log (and, where it can, to record as a failed image).

import type { S3EventRecord } from 'aws-lambda';

/** One upload event, with the object's key exactly as stored in the bucket. */
export interface UploadEvent {
  key: string;
  eventName: string;
  eventTime?: string;
  size?: number;
  etag?: string;
  /**
   * The object's bytes, when the event source had them at hand and they match `size` and `etag` (the local S3
   * emulator: functions/local/s3rver-process.ts): ingest then does not read the object back. Never from S3.
   */
  body?: Uint8Array;
}

/** How the keys of an event source are spelled. */
export type KeySpelling = 'url-encoded' | 'raw';

export interface RejectedRecord {
  /** The key as the record carried it (undefined when it carried none). */
  rawKey?: string;
  reason: string;
}

export type S3RecordLike = Pick<S3EventRecord, 'eventName' | 'eventTime'> & { s3: { object: { key: string; size?: number; eTag?: string } } };

/**
 * An S3 notification key (URL-encoded, '+' for a space) as the object's key. Returns undefined when the key is
 * not valid URL encoding (a '%' not followed by two hex digits, or bytes that are not UTF-8); S3 itself never
 * sends one.
 */
export function decodeNotificationKey(key: string): string | undefined {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** The records of one event, as upload events with real keys, and the records that could not be read. */
export function uploadEvents(records: readonly unknown[], spelling: KeySpelling): { events: UploadEvent[]; rejected: RejectedRecord[] } {
  const events: UploadEvent[] = [];
  const rejected: RejectedRecord[] = [];
  for (const record of records) {
    const r = record as Partial<S3RecordLike> | null;
    const object = r && typeof r === 'object' ? r.s3?.object : undefined;
    const rawKey = object && typeof object.key === 'string' ? object.key : undefined;
    if (rawKey === undefined || rawKey === '' || typeof r?.eventName !== 'string') {
      rejected.push({ rawKey, reason: 'not an S3 object event record (no object key or event name)' });
      continue;
    }
    const key = spelling === 'raw' ? rawKey : decodeNotificationKey(rawKey);
    if (key === undefined) {
      rejected.push({ rawKey, reason: `the event's object key "${rawKey}" is not valid URL encoding` });
      continue;
    }
    events.push({
      key,
      eventName: r.eventName,
      ...(typeof r.eventTime === 'string' ? { eventTime: r.eventTime } : {}),
      ...(typeof object!.size === 'number' ? { size: object!.size } : {}),
      ...(typeof object!.eTag === 'string' ? { etag: object!.eTag } : {}),
    });
  }
  return { events, rejected };
}
