// A project's counts in one DynamoDB item (samples table, sk `c#counts`), so progress reads one item at any size.
// DynamoDB Local has transactions but dynalite (the local stack) has not, so a counted write is three calls:
//   1. mark:  SET m_<token> = now         (this writer is between its write and its count)
//   2. the write itself (conditional as before; it returns the old record, which gives the delta)
//   3. apply: ADD <delta> REMOVE m_<token>, on the condition that the mark is still there
// Bulk writes (ingest) to one project that start while a shared mark is on its way use it, and one apply adds their
// deltas together.
// In a long-lived process (the local stack: `behind`), labels and ingest's images share one mark for a few
// milliseconds after it landed, and return once their own write is done: the apply follows in the background, and
// this process's own reads of the counts wait for it. A label's path is then its write alone (no mark, no waiting
// for the group), and the counter item moves once per group. Never in a Lambda, which may freeze after answering.
// A writer that dies between 1 and 3 leaves its mark behind; a mark older than STALE_MS can only be such a one, so a
// read that sees one reports `repairNeeded`, and `recount` rebuilds the item from every record. A process that is
// the store's only writer (the local stack, which owns its emulator) knows sooner: every mark set before it started
// is a dead writer's (`writersDeadBefore`), so the counts a crash left short are rebuilt at the restart. A recount writes
// only if no counted write started or finished while it read (the item's `seq` moves on every mark and apply), so
// its counts are exact at the moment they replace the old ones.

import { randomBytes } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { WinnowError } from '../../domain/errors.js';
import type { ImageRecord, Sample } from '../../domain/model.js';
import type { SampleCounts } from '../../domain/ports.js';
import { IMAGE_SK_PREFIX, SAMPLE_SK_PREFIX } from '../keys.js';
import { imageDelta, sampleDelta, toSampleCounts, type CountDelta } from '../sample-counts.js';
import { isConditionFailed, type Item } from './dynamo.js';

export const COUNTER_SK = 'c#counts';
/**
 * Set (to 1) on counter items that have kept the quality sums (domain/quality-tally.ts) since their project's first
 * counted write: an item made before those sums existed lacks it (its sample heads lack their tallies, which a
 * recount cannot rebuild), and the quality view then reads every label instead.
 */
export const QUALITY_KEPT = 'qv';
/** A counted write takes milliseconds; a mark this old belongs to a writer that died. */
export const STALE_MS = 60_000;
const MARK_PREFIX = 'm_';
const NOT_COUNTERS = new Set(['projectId', 'sk', 'seq', 'repairedAt', QUALITY_KEPT]);
/** Recount attempts while counted writes keep coming; each waits a little longer. */
const RECOUNT_ATTEMPTS = 20;

/** How shared counted writes wait for their count (see the top). */
export interface CountBehind {
  /** How long a landed shared mark stays open to further writes (ms). */
  openMs: number;
}

/**
 * The local stack's setting: a group stays open for 250 ms after its mark landed, so that most labels find a landed
 * mark and their answer waits for their own two writes only (the annotation, then the sample head).
 */
export const LOCAL_COUNT_BEHIND: CountBehind = { openMs: 250 };

export class ProjectCounter {
  /** Per project, the group of counted writes whose shared mark is joinable (on its way, or open: see `behind`). */
  private readonly forming = new Map<string, MarkGroup>();
  /** Per project, groups whose apply has not finished (their members may have returned already: `behind`). */
  private readonly unapplied = new Map<string, Set<MarkGroup>>();
  /** Projects this process is recounting: their groups close once marked (a recount waits for a moment without marks). */
  private readonly recounting = new Map<string, number>();

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    /** Every image and sample record of the project, a page at a time (sk, labeledBy, label, status). */
    private readonly records: (projectId: string) => AsyncIterable<Item[]>,
    private readonly now: () => number = Date.now,
    /** Shared writes return before their count is applied (only where this process outlives the answer). */
    public behind?: CountBehind,
  ) {}

  /** Marks set before this time (epoch ms) belong to writers known to have died (see the top). */
  writersDeadBefore?: number;

  /** A mark set at `at` whose writer can only have died. */
  private dead(at: number, now: number): boolean {
    return now - at > STALE_MS || (this.writersDeadBefore !== undefined && at < this.writersDeadBefore);
  }

  /**
   * Runs one write whose effect on the counts it returns, with the mark and apply around it (see the top). With
   * `shared`, writes to one project that start while a shared mark is on its way use that mark and one apply with the
   * sum of their deltas: a write then costs one request plus a share of two instead of three, and returns when the
   * slowest of its group is counted. Used by the frequent writes (ingest's images in flight, labels): the counter
   * item's updates are applied one at a time (dynalite locks the item; DynamoDB serialises writes to one item), so
   * fewer of them is what keeps a burst of labels from queueing behind each other's marks and applies.
   */
  async counted<T = void>(projectId: string, write: () => Promise<{ delta: CountDelta; result?: T }>, opts: { shared?: boolean } = {}): Promise<T> {
    const group = opts.shared ? this.join(projectId) : this.newGroup(projectId);
    group.members++;
    if (!opts.shared) group.close();
    // Behind: the count is applied after this write returns (the mark, landed before the write, covers a crash).
    const settled = (): Promise<void> => (opts.shared && this.behind ? Promise.resolve() : group.applied);
    await group.marked;
    let out: { delta: CountDelta; result?: T };
    try {
      out = await write();
    } catch (err) {
      // Refused (condition failed): nothing was written, nothing to count. Anything else may have written part of
      // its records: the shared mark is then aged at once, which asks for a recount.
      group.leave(isConditionFailed(err) ? 'refused' : 'broken');
      await settled();
      throw err;
    }
    group.leave('wrote', out.delta);
    await settled();
    return out.result as T;
  }

  /**
   * Behind only: a shared counted write to the project is about to start (a label's advance, once its claim landed).
   * Its mark is sent now, alongside the caller's own request, so that the write finds it landed instead of waiting a
   * round trip for it; nothing is sent when a group is forming. A group nobody joins applies nothing but its
   * mark's removal once it closes. Not when answers wait for their count (a Lambda): that group closes once marked.
   */
  prepare(projectId: string): void {
    if (this.behind) this.join(projectId);
  }

  /** A group with a mark of its own (sent now). */
  private newGroup(projectId: string): MarkGroup {
    const mark = MARK_PREFIX + randomBytes(8).toString('hex');
    const marked = this.update(projectId, 'SET #m = :now ADD #seq :one', { '#m': mark }, { ':now': this.now() }).then(async (after) => {
      // This mark made the item: the project's counts start now, with the quality sums (once per project, before the
      // write goes on; it moves `seq`, so a recount that read the item before reads it again).
      if (after?.seq === 1 && after[QUALITY_KEPT] === undefined) await this.update(projectId, 'SET #q = :one ADD #seq :one', { '#q': QUALITY_KEPT }, {}).catch(() => undefined);
    });
    const group = new MarkGroup(marked, (delta, broken) => this.apply(projectId, mark, delta, broken));
    let pending = this.unapplied.get(projectId);
    if (!pending) this.unapplied.set(projectId, (pending = new Set()));
    pending.add(group);
    void group.applied.then(() => {
      pending.delete(group);
      if (pending.size === 0 && this.unapplied.get(projectId) === pending) this.unapplied.delete(projectId);
    });
    return group;
  }

  /** The shared group whose mark is joinable for this project, or a new one (its mark sent now). */
  private join(projectId: string): MarkGroup {
    let group = this.forming.get(projectId);
    if (!group) {
      const formed = (group = this.newGroup(projectId));
      this.forming.set(projectId, formed);
      // Closed to new writes once marked (a write joining later would hold the others' apply back), or, behind, a
      // few ms later (nobody waits for the apply, so more writes may share the mark).
      const close = () => this.closeForming(projectId, formed);
      const openMs = this.recounting.has(projectId) ? 0 : (this.behind?.openMs ?? 0);
      void formed.marked.then(() => (openMs > 0 ? setTimeout(close, openMs) : close()), close);
    }
    return group;
  }

  private closeForming(projectId: string, group: MarkGroup): void {
    if (this.forming.get(projectId) === group) this.forming.delete(projectId);
    group.close();
  }

  /** Waits until every count of this process's writes to the project so far is applied (behind: read your writes). */
  async settle(projectId: string): Promise<void> {
    const open = this.forming.get(projectId);
    if (open) this.closeForming(projectId, open);
    const pending = this.unapplied.get(projectId);
    if (pending) await Promise.all([...pending].map((g) => g.applied));
  }

  /** settle() for every project (before the process lets go of its clients). */
  async settleAll(): Promise<void> {
    await Promise.all([...new Set([...this.forming.keys(), ...this.unapplied.keys()])].map((p) => this.settle(p)));
  }

  /** The counts (one consistent read); `repairNeeded` when a mark is stale. */
  async read(projectId: string): Promise<SampleCounts> {
    await this.settle(projectId);
    const item = await this.get(projectId);
    const { counters, marks } = parse(item);
    const now = this.now();
    return withQualityKept(toSampleCounts(counters, marks.some((at) => this.dead(at, now))), item);
  }

  /** Rebuilds the counts from every record; waits for a moment with no counted write in flight. */
  async recount(projectId: string): Promise<SampleCounts> {
    this.recounting.set(projectId, (this.recounting.get(projectId) ?? 0) + 1);
    try {
      return await this.recountOnce(projectId);
    } finally {
      const left = this.recounting.get(projectId)! - 1;
      if (left === 0) this.recounting.delete(projectId);
      else this.recounting.set(projectId, left);
    }
  }

  private async recountOnce(projectId: string): Promise<SampleCounts> {
    for (let attempt = 0; attempt < RECOUNT_ATTEMPTS; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(2000, 50 * attempt)));
      await this.settle(projectId);
      const item = await this.get(projectId);
      const { marks } = parse(item);
      const now = this.now();
      if (marks.some((at) => !this.dead(at, now))) continue; // a live writer: its count may or may not be read
      const counts: CountDelta = new Map();
      for await (const page of this.records(projectId)) {
        for (const record of page) {
          const sk = record.sk as string;
          if (sk.startsWith(SAMPLE_SK_PREFIX)) sampleDelta(undefined, { labeledBy: [], ...(record as Partial<Sample>) } as Sample, counts);
          else if (sk.startsWith(IMAGE_SK_PREFIX)) imageDelta(undefined, record as unknown as ImageRecord, counts);
        }
      }
      const seq = item?.seq as number | undefined;
      try {
        // A put replaces the item: the stale marks go with the old counts.
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            // The quality sums' flag stays as it was (a recount adds up the heads' tallies; it cannot make old ones).
            Item: { projectId, sk: COUNTER_SK, ...Object.fromEntries(counts), seq: (seq ?? 0) + 1, repairedAt: now, ...(keptQuality(item) ? { [QUALITY_KEPT]: 1 } : {}) },
            ConditionExpression: seq === undefined ? 'attribute_not_exists(sk)' : '#seq = :seq',
            ...(seq === undefined ? {} : { ExpressionAttributeNames: { '#seq': 'seq' }, ExpressionAttributeValues: { ':seq': seq } }),
          }),
        );
        return withQualityKept(toSampleCounts(counts), item);
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
      }
    }
    throw new WinnowError('unavailable', `the counts of project "${projectId}" are changing too fast to recount; retry`);
  }

  private async apply(projectId: string, mark: string, delta: CountDelta, broken: boolean): Promise<void> {
    const names: Record<string, string> = { '#m': mark };
    const values: Item = {};
    const adds = ['#seq :one'];
    let i = 0;
    for (const [name, by] of delta) {
      names[`#a${i}`] = name;
      values[`:a${i}`] = by;
      adds.push(`#a${i} :a${i}`);
      i++;
    }
    if (broken) {
      // A write of the group may have landed in part: the counts of the others go in, and the mark, aged, asks for
      // the recount that takes the broken one in.
      await this.update(projectId, `ADD ${adds.join(', ')} SET #m = :zero`, names, { ...values, ':zero': 0 }).catch(() => undefined);
      return;
    }
    try {
      const after = await this.update(projectId, `ADD ${adds.join(', ')} REMOVE #m`, names, values, 'attribute_exists(#m)');
      const { counters, marks } = parse(after);
      // Nothing left to count (the project's records are all deleted): the item goes too, unless a write came in.
      if (marks.length === 0 && [...counters.values()].every((v) => v === 0)) await this.dropIfUnchanged(projectId, after?.seq as number);
    } catch (err) {
      if (!isConditionFailed(err)) {
        // The writes landed; their count did not. The mark stays and goes stale, and the recount takes them in.
        return;
      }
      // A recount replaced the item while these writes were in flight (their mark taken for a dead writer's): whether
      // the recount read them is unknown, so a stale mark asks for another.
      await this.update(projectId, 'SET #m = :zero', { '#m': mark }, { ':zero': 0 }).catch(() => undefined);
    }
  }

  private async dropIfUnchanged(projectId: string, seq: number): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { projectId, sk: COUNTER_SK },
          ConditionExpression: '#seq = :seq',
          ExpressionAttributeNames: { '#seq': 'seq' },
          ExpressionAttributeValues: { ':seq': seq },
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }

  private async update(projectId: string, expression: string, names: Record<string, string>, values: Item, condition?: string): Promise<Item | undefined> {
    const usesSeq = expression.includes('#seq');
    const out = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { projectId, sk: COUNTER_SK },
        UpdateExpression: expression,
        ExpressionAttributeNames: { ...names, ...(usesSeq ? { '#seq': 'seq' } : {}) },
        ...(usesSeq || Object.keys(values).length > 0 ? { ExpressionAttributeValues: { ...values, ...(usesSeq ? { ':one': 1 } : {}) } } : {}),
        ...(condition ? { ConditionExpression: condition } : {}),
        ReturnValues: 'ALL_NEW',
      }),
    );
    return out.Attributes;
  }

  private async get(projectId: string): Promise<Item | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { projectId, sk: COUNTER_SK }, ConsistentRead: true }));
    return out.Item;
  }
}

/** No item yet (nothing counted) or one flagged: the quality sums cover every label. */
const keptQuality = (item: Item | undefined) => item === undefined || item[QUALITY_KEPT] === 1;

function withQualityKept(counts: SampleCounts, item: Item | undefined): SampleCounts {
  return keptQuality(item) ? counts : { ...counts, qualityKept: false };
}

function parse(item: Item | undefined): { counters: Map<string, number>; marks: number[] } {
  const counters = new Map<string, number>();
  const marks: number[] = [];
  for (const [name, value] of Object.entries(item ?? {})) {
    if (typeof value !== 'number' || NOT_COUNTERS.has(name)) continue;
    if (name.startsWith(MARK_PREFIX)) marks.push(value);
    else counters.set(name, value);
  }
  return { counters, marks };
}

/**
 * Counted writes sharing one mark: each leaves with its delta; once the group is closed to new members, the last to
 * leave (or the close, if all have left) sends the one apply for all.
 */
class MarkGroup {
  members = 0;
  private left = 0;
  private closed = false;
  private sent = false;
  private broken = false;
  private readonly delta: CountDelta = new Map();
  private settle!: () => void;
  /** Settles once the group's apply is done (never rejects: a lost apply leaves the mark to go stale). */
  readonly applied = new Promise<void>((resolve) => (this.settle = resolve));

  constructor(
    readonly marked: Promise<void>,
    private readonly applyAll: (delta: CountDelta, broken: boolean) => Promise<void>,
  ) {
    // A mark that failed: every member throws before writing, and nothing is applied.
    marked.catch(() => this.settle());
  }

  leave(how: 'wrote' | 'refused' | 'broken', delta?: CountDelta): void {
    if (how === 'broken') this.broken = true;
    for (const [name, by] of delta ?? []) {
      const next = (this.delta.get(name) ?? 0) + by;
      if (next === 0) this.delta.delete(name);
      else this.delta.set(name, next);
    }
    this.left++;
    this.sendIfDone();
  }

  /** No member joins after this. */
  close(): void {
    this.closed = true;
    this.sendIfDone();
  }

  private sendIfDone(): void {
    if (!this.closed || this.sent || this.left !== this.members) return;
    this.sent = true;
    // A group closed before anyone joined it (a settle right after forming) still applies, to remove its mark.
    void this.marked.then(
      () => this.applyAll(this.delta, this.broken),
      () => undefined,
    ).finally(() => this.settle());
  }
}
