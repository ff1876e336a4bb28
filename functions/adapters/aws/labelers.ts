// LabelerStore on DynamoDB: pk projectId, sk labelerId. Counters and the bounded `recent` list change together, so
// each change is one put conditional on a `seq` number (optimistic concurrency), retried after a re-read when another
// write got in between. The update itself is the pure tally shared with the in-memory fake. The tally this store last
// read or wrote is kept (per process): a labeler's next label starts from it without a read, and a stale copy (a
// write from another process) only costs the refused put and a re-read.

import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { WinnowError } from '../../domain/errors.js';
import type { Labeler, LabelerEntry } from '../../domain/model.js';
import type { LabelerStore } from '../../domain/ports.js';
import { emptyTally, tallyLabel, tallyUndo, toLabeler, type LabelerTally } from '../labeler-tally.js';
import { isConditionFailed, queryAll, withoutAttrs, type Item } from './dynamo.js';

/** Enough for a burst of one labeler's writes landing together; each retry re-reads. */
const MAX_ATTEMPTS = 20;
/** Labelers whose last tally is kept (the oldest is dropped first). */
const KEPT_TALLIES = 10_000;

interface Read {
  tally?: LabelerTally;
  seq?: number;
}

export class DynamoLabelerStore implements LabelerStore {
  private readonly kept = new Map<string, Required<Read>>();

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(projectId: string, labelerId: string): Promise<Labeler | undefined> {
    const { tally } = await this.read(projectId, labelerId);
    return tally && toLabeler(tally);
  }

  async list(projectId: string): Promise<Labeler[]> {
    const items = await queryAll(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'projectId = :p',
      ExpressionAttributeValues: { ':p': projectId },
      ConsistentRead: true,
    });
    return items.map((item) => toLabeler(withoutAttrs<LabelerTally>(item, ['seq'])));
  }

  recordLabel(projectId: string, labelerId: string, entry: LabelerEntry, at: string): Promise<Labeler> {
    return this.change(projectId, labelerId, (tally) => tallyLabel(tally, entry, at));
  }

  recordUndo(projectId: string, labelerId: string, entry: LabelerEntry, _at: string): Promise<Labeler> {
    return this.change(projectId, labelerId, (tally) => tallyUndo(tally, entry));
  }

  async delete(projectId: string, labelerId: string): Promise<void> {
    this.kept.delete(keyOf(projectId, labelerId));
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { projectId, labelerId } }));
  }

  /** Applies `update` (undefined = nothing to do) with optimistic concurrency on `seq`. */
  private async change(
    projectId: string,
    labelerId: string,
    update: (tally: LabelerTally) => LabelerTally | undefined,
  ): Promise<Labeler> {
    // The kept tally is only trusted for a write, which is conditional on its seq; "nothing to do" needs a read.
    const kept = this.kept.get(keyOf(projectId, labelerId));
    const keptNext = kept && update(kept.tally);
    if (kept && keptNext && (await this.tryWrite(keptNext, kept.seq))) return toLabeler(keptNext);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const { tally, seq } = await this.read(projectId, labelerId);
      const current = tally ?? emptyTally(projectId, labelerId);
      const next = update(current);
      if (!next) return toLabeler(current);
      if (await this.tryWrite(next, seq)) return toLabeler(next);
      // Someone else wrote this labeler meanwhile: back off a little (jittered) and re-read.
      await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
    }
    throw new WinnowError('unavailable', `labeler ${labelerId} is being updated too often; retry`);
  }

  private async read(projectId: string, labelerId: string): Promise<Read> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { projectId, labelerId }, ConsistentRead: true }));
    if (!out.Item) return {};
    const read = { tally: withoutAttrs<LabelerTally>(out.Item, ['seq']), seq: out.Item.seq as number };
    this.keep(read);
    return read;
  }

  private keep(read: Required<Read>): void {
    const key = keyOf(read.tally.projectId, read.tally.labelerId);
    this.kept.delete(key); // re-inserted last: the oldest stays first
    this.kept.set(key, read);
    if (this.kept.size > KEPT_TALLIES) this.kept.delete(this.kept.keys().next().value!);
  }

  /** False when another write got in first (the kept copy, if any, is dropped). */
  private async tryWrite(tally: LabelerTally, seq: number | undefined): Promise<boolean> {
    try {
      await this.write(tally, seq);
      return true;
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      this.kept.delete(keyOf(tally.projectId, tally.labelerId));
      return false;
    }
  }

  private async write(tally: LabelerTally, seq: number | undefined): Promise<void> {
    const first = seq === undefined;
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...tally, seq: (seq ?? 0) + 1 },
        ConditionExpression: first ? 'attribute_not_exists(labelerId)' : '#seq = :seq',
        ExpressionAttributeNames: first ? undefined : { '#seq': 'seq' },
        ExpressionAttributeValues: first ? undefined : { ':seq': seq },
      }),
    );
    this.keep({ tally, seq: (seq ?? 0) + 1 });
  }
}

const keyOf = (projectId: string, labelerId: string) => `${projectId}\n${labelerId}`;
