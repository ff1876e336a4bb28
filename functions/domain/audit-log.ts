// The audit log: who did what to a project, and when (uploads, imports, exports, deletions, bulk labeling,
// membership, settings). One small JSON object per entry under `audit/<project>/` in the bucket, its own prefix:
// a project's deletion removes the project's prefixes (deletion.ts projectPrefixes) and leaves this one, so after a
// project is gone its audit entries remain. Entries hold ids, names of people, counts and times; never file names,
// labels or image content. Keys sort newest first (an inverted clock), so a page of the listing is a page of the log.
// Account changes that belong to no project (invitations, roles, disabling) go to the team log, `audit/_team/`.

import { randomBytes } from 'node:crypto';
import { badRequest } from './errors.js';
import type { BlobStore, Page } from './ports.js';

export const AUDIT_ACTIONS = [
  'project.create',
  'project.edit',
  'project.delete',
  'images.upload',
  'images.import',
  'images.delete',
  'labels.import',
  'labels.delete',
  'features.import',
  'export.start',
  'autolabel.run',
  'autolabel.undo',
  'retention.sweep',
  'member.add',
  'member.remove',
  'user.invite',
  'user.role',
  'user.disable',
  'user.enable',
  'user.password-reset',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** The log that is not a project's: account changes. Not a valid project id, so it can never collide with one. */
export const TEAM_LOG = '_team';

export interface AuditEntry {
  /** The project, or TEAM_LOG. */
  projectId: string;
  at: string;
  /** Who did it (the API's userId). */
  actor: string;
  action: AuditAction;
  /** Ids and counts the action concerned: imageId, exportId, jobId, batchId, userId, files, role... */
  target?: Record<string, string | number | boolean>;
  /** The HTTP request that did it, to find it in the server log. */
  requestId?: string;
}

export const auditPrefix = (projectId: string) => `audit/${projectId}/`;

// 2^53 ms is far past any real date; the difference keeps a fixed width, so text order is newest-first.
const FAR_FUTURE = 9_000_000_000_000_000;
// Entries written in the same millisecond by this process keep their order through a falling sequence number.
let sequence = 0;
const entryKey = (entry: AuditEntry) =>
  `${auditPrefix(entry.projectId)}${String(FAR_FUTURE - Date.parse(entry.at)).padStart(16, '0')}-${String(1e9 - (++sequence % 1e9)).padStart(10, '0')}-${randomBytes(4).toString('hex')}.json`;

export async function recordAudit(blobs: BlobStore, entry: AuditEntry): Promise<void> {
  await blobs.put(entryKey(entry), new TextEncoder().encode(JSON.stringify(entry)), 'application/json');
}

/** One page of a project's log, newest first. */
export async function readAudit(blobs: BlobStore, projectId: string, opts: { cursor?: string; limit?: number } = {}): Promise<Page<AuditEntry>> {
  const storeCursor = opts.cursor === undefined ? undefined : unwrapCursor(opts.cursor);
  const page = await blobs.list(auditPrefix(projectId), { cursor: storeCursor, limit: opts.limit ?? 100 }).catch((err: unknown) => {
    // The store refuses a token it did not issue (a cursor edited by hand): that is the caller's mistake.
    if (storeCursor !== undefined) throw badCursor();
    throw err;
  });
  const entries = await mapLimited(page.items, 16, async (o) => {
    const got = await blobs.get(o.key);
    return got ? (JSON.parse(new TextDecoder().decode(got.body)) as AuditEntry) : undefined;
  });
  return { items: entries.filter((e): e is AuditEntry => !!e), ...(page.cursor ? { cursor: wrapCursor(page.cursor) } : {}) };
}

// The store's own continuation token, wrapped so that anything else is told apart before the store sees it.
const CURSOR_TAG = 'audit:';
const wrapCursor = (storeCursor: string) => Buffer.from(CURSOR_TAG + storeCursor, 'utf8').toString('base64url');
const badCursor = () => badRequest('cursor: not a cursor this log gave out; start again without one', { field: 'cursor' });
function unwrapCursor(cursor: string): string {
  const text = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  if (!text.startsWith(CURSOR_TAG) || text.length === CURSOR_TAG.length) throw badCursor();
  return text.slice(CURSOR_TAG.length);
}

/** Every entry of a log, newest first, page by page (exports of the log). */
export async function* wholeAudit(blobs: BlobStore, projectId: string): AsyncGenerator<AuditEntry> {
  let cursor: string | undefined;
  do {
    const page = await readAudit(blobs, projectId, { cursor, limit: 500 });
    yield* page.items;
    cursor = page.cursor;
  } while (cursor);
}

export const AUDIT_CSV_HEADER = 'at,actor,action,target,requestId';

function csvCell(raw: string): string {
  const value = /^[=+\-@\t\r]/.test(raw) ? `'${raw}` : raw;
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One CSV line; `target` as `key=value` pairs. A cell a spreadsheet would run as a formula starts with '. */
export function auditCsvLine(e: AuditEntry): string {
  const target = Object.entries(e.target ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return [e.at, e.actor, e.action, target, e.requestId ?? ''].map((v) => csvCell(String(v))).join(',');
}

async function mapLimited<T, R>(items: T[], limit: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
