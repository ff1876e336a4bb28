// SampleStore on DynamoDB. One table per deployment holds both images (sk `i#<imageId>`) and samples
// (sk `s#<sampleId>`) of a project; the sparse GSI `queue` on `queueKey` lists samples that still need labels.
// A counter item per project (sk `c#counts`, project-counter.ts) is moved by every write here that changes a count.

import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConditionFailed } from '../../domain/errors.js';
import type { BoxLabel, ImageRecord, ImageStatus, LabelHead, Lease, Sample } from '../../domain/model.js';
import { systemClock, type Clock, type HeadAdvance, type Page, type SampleCounts, type SampleStore } from '../../domain/ports.js';
import { advancedHead } from '../../domain/sample-advance.js';
import { mapBounded } from '../../domain/concurrency.js';
import { IMAGE_SK_PREFIX, SAMPLE_SK_PREFIX, imageSk, sampleSk } from '../keys.js';
import { decodeCursor, encodeCursor, invalidCursor, PAGE_LIMITS, pageLimit } from '../paging.js';
import { plainCopy } from '../plain.js';
import { imageDelta, sampleDelta, type CountDelta } from '../sample-counts.js';
import { GroupCommit } from '../group-commit.js';
import { BATCH_WRITE_LIMIT, batchPut, isConditionFailed, queryAll, queryPage, withoutAttrs, type Item } from './dynamo.js';
import { ProjectCounter, type CountBehind } from './project-counter.js';

/** Conditional puts in flight at once while creating an image's samples. */
const PUT_CONCURRENCY = 16;
/** Records a filtered image page looks at before it returns what it has (with a cursor). */
const FILTER_EXAMINE_LIMIT = 5000;
/** DynamoDB's BatchGetItem limit. */
const BATCH_GET_LIMIT = 100;
const TABLE_KEYS = ['projectId', 'sk'] as const;

const toImage = (item: Item) => withoutAttrs<ImageRecord>(item, ['sk']);
const toSample = (item: Item) => withoutAttrs<Sample>(item, ['sk']);

export class DynamoSampleStore implements SampleStore {
  private readonly counter: ProjectCounter;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    /** Tells how old a count's mark is (project-counter.ts). */
    clock: Clock = systemClock,
  ) {
    this.counter = new ProjectCounter(doc, table, (projectId) => this.countAll(projectId), () => clock.now());
  }

  /**
   * Labels and ingest's images return once written, their counts applied just after (project-counter.ts): only for a
   * process that outlives its answers (the local stack), which calls settleCounts() before it closes its clients.
   */
  countBehind(behind: CountBehind | undefined): void {
    this.counter.behind = behind;
  }

  /** This process is the store's only writer since `startedAt`: older count marks are a dead writer's (project-counter.ts). */
  writersDeadBefore(startedAt: number): void {
    this.counter.writersDeadBefore = startedAt;
  }

  settleCounts(): Promise<void> {
    return this.counter.settleAll();
  }

  counts(projectId: string): Promise<SampleCounts> {
    return this.counter.read(projectId);
  }

  recount(projectId: string): Promise<SampleCounts> {
    return this.counter.recount(projectId);
  }

  async putImageIfAbsent(image: ImageRecord): Promise<{ image: ImageRecord; created: boolean }> {
    try {
      await this.counter.counted(image.projectId, async () => {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...image, sk: imageSk(image.imageId) },
            ConditionExpression: 'attribute_not_exists(sk)',
          }),
        );
        return { delta: imageDelta(undefined, image) };
      }, { shared: true }); // ingest's images in flight share the counter's mark
      return { image: plainCopy(image), created: true };
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
    const existing = await this.getImage(image.projectId, image.imageId);
    // Only a delete between the two calls could get here; report it rather than invent a record.
    if (!existing) throw new ConditionFailed(`image ${image.imageId} changed while being created`);
    return { image: existing, created: false };
  }

  async putImage(image: ImageRecord): Promise<void> {
    await this.counter.counted(image.projectId, async () => {
      const out = await this.doc.send(new PutCommand({ TableName: this.table, Item: { ...image, sk: imageSk(image.imageId) }, ReturnValues: 'ALL_OLD' }));
      return { delta: imageDelta(out.Attributes as ImageRecord | undefined, image) };
    });
  }

  async getImage(projectId: string, imageId: string): Promise<ImageRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { projectId, sk: imageSk(imageId) }, ConsistentRead: true }),
    );
    return out.Item && toImage(out.Item);
  }

  async listImages(projectId: string, opts: { cursor?: string; limit?: number; status?: ImageStatus } = {}): Promise<Page<ImageRecord>> {
    const limit = pageLimit(opts.limit, PAGE_LIMITS.images);
    if (opts.status) return this.listImagesWithStatus(projectId, opts.status, limit, opts.cursor);
    const page = await this.listPrefix(projectId, IMAGE_SK_PREFIX, limit, opts.cursor);
    return { ...page, items: page.items.map(toImage) };
  }

  /** Key-paged with a filter: reads on from the cursor until `limit` matches or FILTER_EXAMINE_LIMIT records looked at. */
  private async listImagesWithStatus(projectId: string, status: ImageStatus, limit: number, cursor?: string): Promise<Page<ImageRecord>> {
    const items: ImageRecord[] = [];
    let start: Item | undefined = cursor === undefined ? undefined : decodeCursor(cursor);
    let examined = 0;
    for (;;) {
      let out;
      try {
        out = await this.doc.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'projectId = :p AND begins_with(sk, :prefix)',
            FilterExpression: '#status = :status',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':p': projectId, ':prefix': IMAGE_SK_PREFIX, ':status': status },
            ConsistentRead: true,
            Limit: Math.min(1000, FILTER_EXAMINE_LIMIT - examined),
            ExclusiveStartKey: start,
          }),
        );
      } catch (err) {
        if (cursor !== undefined && err instanceof Error && err.name === 'ValidationException') throw invalidCursor();
        throw err;
      }
      examined += out.ScannedCount ?? 0;
      const found = out.Items ?? [];
      for (let i = 0; i < found.length; i++) {
        items.push(toImage(found[i]));
        const last = i === found.length - 1 && !out.LastEvaluatedKey;
        if (items.length === limit) return last ? { items } : { items, cursor: encodeCursor({ projectId, sk: found[i].sk as string }) };
      }
      start = out.LastEvaluatedKey;
      if (!start) return { items };
      if (examined >= FILTER_EXAMINE_LIMIT) return { items, cursor: encodeCursor(start as Record<string, string>) };
    }
  }

  async putSamplesIfAbsent(samples: Sample[]): Promise<number> {
    const projectId = samples[0]?.projectId;
    if (projectId === undefined) return 0;
    if (samples.some((s) => s.projectId !== projectId)) {
      // One counter per project: count each project's samples under its own.
      let created = 0;
      for (const id of new Set(samples.map((s) => s.projectId))) created += await this.putSamplesIfAbsent(samples.filter((s) => s.projectId === id));
      return created;
    }
    return this.counter.counted(projectId, async () => {
      // BatchWriteItem cannot be conditional, and a labeled sample must never be clobbered: one conditional put each.
      const created = await mapBounded(samples, PUT_CONCURRENCY, async (sample) => {
        try {
          await this.doc.send(
            new PutCommand({
              TableName: this.table,
              Item: { ...sample, sk: sampleSk(sample.sampleId) },
              ConditionExpression: 'attribute_not_exists(sk)',
            }),
          );
          return sample;
        } catch (err) {
          if (isConditionFailed(err)) return undefined;
          throw err;
        }
      });
      const delta: CountDelta = new Map();
      for (const sample of created) if (sample) sampleDelta(undefined, sample, delta);
      return { delta, result: created.filter(Boolean).length };
    });
  }

  /** Group commit of ingest's last writes (see putIngested), counted once per project per write. */
  private readonly ingested = new GroupCommit<{ previous: ImageRecord; ready: ImageRecord; samples: Sample[] }>(async (entries) => {
    const byProject = new Map<string, typeof entries>();
    for (const e of entries) byProject.set(e.ready.projectId, [...(byProject.get(e.ready.projectId) ?? []), e]);
    await Promise.all(
      [...byProject].map(([projectId, group]) =>
        this.counter.counted(projectId, async () => {
          const delta: CountDelta = new Map();
          const whole: Item[][] = [];
          const split: Item[][] = [];
          for (const { previous, ready, samples } of group) {
            imageDelta(previous, ready, delta);
            for (const sample of samples) sampleDelta(undefined, sample, delta);
            const items = [...samples.map((sample) => ({ ...sample, sk: sampleSk(sample.sampleId) })), { ...ready, sk: imageSk(ready.imageId) }];
            (items.length <= BATCH_WRITE_LIMIT ? whole : split).push(items);
          }
          // An image too large for one request: its samples first, so that a ready image never lacks one.
          await Promise.all([batchPut(this.doc, this.table, whole), ...split.map(async (items) => {
            await batchPut(this.doc, this.table, [items.slice(0, -1)]);
            await batchPut(this.doc, this.table, [items.slice(-1)]);
          })]);
          return { delta };
        }, { shared: true }),
      ),
    );
  });

  putIngested(previous: ImageRecord, ready: ImageRecord, samples: Sample[]): Promise<void> {
    return this.ingested.add({ previous, ready, samples });
  }

  async getSample(projectId: string, sampleId: string): Promise<Sample | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { projectId, sk: sampleSk(sampleId) }, ConsistentRead: true }),
    );
    return out.Item && toSample(out.Item);
  }

  async getImages(projectId: string, imageIds: string[]): Promise<ImageRecord[]> {
    const found = await this.batchGet(projectId, imageIds.map(imageSk));
    return imageIds.flatMap((id) => {
      const item = found.get(imageSk(id));
      return item ? [toImage(item)] : [];
    });
  }

  async getSamples(projectId: string, sampleIds: string[]): Promise<Sample[]> {
    const found = await this.batchGet(projectId, sampleIds.map(sampleSk));
    return sampleIds.flatMap((id) => {
      const item = found.get(sampleSk(id));
      return item ? [toSample(item)] : [];
    });
  }

  /** Consistent BatchGetItem of records by sort key (up to BATCH_GET_LIMIT a request, unprocessed keys retried). */
  private async batchGet(projectId: string, sks: string[]): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    const unique = [...new Set(sks)];
    for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT) {
      let keys: Item[] = unique.slice(i, i + BATCH_GET_LIMIT).map((sk) => ({ projectId, sk }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
        const out = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of out.Responses?.[this.table] ?? []) found.set(item.sk as string, item);
        keys = (out.UnprocessedKeys?.[this.table]?.Keys as Item[] | undefined) ?? [];
      }
    }
    return found;
  }

  async listSamples(projectId: string, opts: { cursor?: string; limit?: number } = {}): Promise<Page<Sample>> {
    const page = await this.listPrefix(projectId, SAMPLE_SK_PREFIX, pageLimit(opts.limit, PAGE_LIMITS.samples), opts.cursor);
    return { ...page, items: page.items.map(toSample) };
  }

  async queue(projectId: string, opts: { after?: string; limit?: number } = {}): Promise<Sample[]> {
    const limit = pageLimit(opts.limit, PAGE_LIMITS.queue);
    const after = opts.after !== undefined;
    const page = await queryPage(
      this.doc,
      {
        TableName: this.table,
        IndexName: 'queue',
        KeyConditionExpression: after ? 'projectId = :p AND queueKey > :after' : 'projectId = :p',
        ExpressionAttributeValues: after ? { ':p': projectId, ':after': opts.after } : { ':p': projectId },
      },
      [...TABLE_KEYS, 'queueKey'],
      limit,
    );
    return page.items.map(toSample);
  }

  async lease(projectId: string, sampleId: string, lease: Lease, now: number): Promise<Sample | undefined> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { projectId, sk: sampleSk(sampleId) },
          UpdateExpression: 'SET #lease = :lease',
          // Only a sample still in the queue, free, expired, or already ours.
          ConditionExpression:
            'attribute_exists(queueKey) AND (attribute_not_exists(#lease) OR #lease.#until < :now OR #lease.#labelerId = :me)',
          ExpressionAttributeNames: { '#lease': 'lease', '#until': 'until', '#labelerId': 'labelerId' },
          ExpressionAttributeValues: { ':lease': lease, ':now': now, ':me': lease.labelerId },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toSample(out.Attributes as Item);
    } catch (err) {
      if (isConditionFailed(err)) return undefined;
      throw err;
    }
  }

  /** The count's shared mark for the advance that follows, sent now (project-counter.ts `prepare`). */
  prepareAdvance(projectId: string): void {
    this.counter.prepare(projectId);
  }

  async advance(
    projectId: string,
    sampleId: string,
    expectedVersion: number,
    next: HeadAdvance,
  ): Promise<Sample> {
    const set = ['#version = :next', 'labeledBy = :labeledBy'];
    // A label write ends the lease, whoever held it.
    const remove = ['#lease'];
    const values: Item = { ':expected': expectedVersion, ':next': expectedVersion + 1, ':labeledBy': next.labeledBy };
    if (next.label) {
      set.push('#label = :label');
      values[':label'] = next.label;
    } else remove.push('#label');
    if (next.inEffect) {
      set.push('inEffect = :inEffect');
      values[':inEffect'] = next.inEffect;
    } else remove.push('inEffect');
    if (next.queueKey !== undefined) {
      set.push('queueKey = :queueKey');
      values[':queueKey'] = next.queueKey;
    } else remove.push('queueKey');
    // The quality sums (domain/quality-tally.ts): replaced when given, left as they are otherwise.
    const tally = next.liveTally && Object.keys(next.liveTally).length > 0 ? next.liveTally : undefined;
    if (tally) {
      set.push('liveTally = :liveTally');
      values[':liveTally'] = tally;
    } else if (next.liveTally) remove.push('liveTally');
    try {
      return await this.counter.counted(projectId, async () => {
        const out = await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { projectId, sk: sampleSk(sampleId) },
            UpdateExpression: `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`,
            ConditionExpression: '#version = :expected',
            ExpressionAttributeNames: { '#version': 'version', '#lease': 'lease', '#label': 'label' },
            ExpressionAttributeValues: values,
            // The old head for the counts; the new one is known from what was set.
            ReturnValues: 'ALL_OLD',
          }),
        );
        const before = toSample(out.Attributes as Item);
        const after = advancedHead(before, expectedVersion, next);
        return { delta: sampleDelta(before, after), result: plainCopy(after) };
        // Shared: every label moves the project's one counter item, whose updates the store applies one at a time.
      }, { shared: true });
    } catch (err) {
      if (isConditionFailed(err)) throw new ConditionFailed(`sample ${sampleId} is not at version ${expectedVersion}`);
      throw err;
    }
  }

  async setProposals(projectId: string, sampleId: string, proposals: BoxLabel[]): Promise<Sample | undefined> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { projectId, sk: sampleSk(sampleId) },
          UpdateExpression: 'SET proposals = :proposals',
          // Never create a sample from a proposal: only ingest (or an import of features) makes samples.
          ConditionExpression: 'attribute_exists(sk)',
          ExpressionAttributeValues: { ':proposals': proposals },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toSample(out.Attributes as Item);
    } catch (err) {
      if (isConditionFailed(err)) return undefined;
      throw err;
    }
  }

  async deleteMany(projectId: string, items: { imageIds?: string[]; sampleIds?: string[] }): Promise<void> {
    const keys = [...(items.sampleIds ?? []).map(sampleSk), ...(items.imageIds ?? []).map(imageSk)];
    if (keys.length === 0) return;
    // One delete each (not BatchWriteItem): each returns the record it removed, which the counts need.
    await this.counter.counted(projectId, async () => {
      const delta: CountDelta = new Map();
      await mapBounded(keys, PUT_CONCURRENCY, async (sk) => {
        const old = await this.deleteReturning(projectId, sk);
        if (old) removedDelta(old, delta);
      });
      return { delta };
    });
  }

  async listSamplesOfImage(projectId: string, imageId: string): Promise<Sample[]> {
    const items = await queryAll(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'projectId = :p AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':p': projectId, ':prefix': sampleSk(imageId) },
      ConsistentRead: true,
    });
    return items.map(toSample).filter((s) => s.imageId === imageId);
  }

  async deleteImage(projectId: string, imageId: string): Promise<void> {
    await this.deleteCounted(projectId, imageSk(imageId));
  }

  async deleteSample(projectId: string, sampleId: string): Promise<void> {
    await this.deleteCounted(projectId, sampleSk(sampleId));
  }

  private async deleteCounted(projectId: string, sk: string): Promise<void> {
    await this.counter.counted(projectId, async () => {
      const old = await this.deleteReturning(projectId, sk);
      return { delta: old ? removedDelta(old) : new Map() };
    });
  }

  private async deleteReturning(projectId: string, sk: string): Promise<Item | undefined> {
    const out = await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { projectId, sk }, ReturnValues: 'ALL_OLD' }));
    return out.Attributes;
  }

  /** Every image and sample record's counted attributes, read from scratch (the counter's repair). */
  private async *countAll(projectId: string): AsyncGenerator<Item[]> {
    for (const prefix of [SAMPLE_SK_PREFIX, IMAGE_SK_PREFIX]) {
      let start: Item | undefined;
      do {
        const out = await this.doc.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'projectId = :p AND begins_with(sk, :prefix)',
            ProjectionExpression: 'sk, labeledBy, inEffect, liveTally, #label.confidences, #label.ambiguous, #label.labelerId, #status',
            ExpressionAttributeNames: { '#label': 'label', '#status': 'status' },
            ExpressionAttributeValues: { ':p': projectId, ':prefix': prefix },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        );
        yield out.Items ?? [];
        start = out.LastEvaluatedKey;
      } while (start);
    }
  }

  private listPrefix(projectId: string, prefix: string, limit: number, cursor?: string): Promise<Page<Item>> {
    return queryPage(
      this.doc,
      {
        TableName: this.table,
        KeyConditionExpression: 'projectId = :p AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':p': projectId, ':prefix': prefix },
        ConsistentRead: true,
      },
      TABLE_KEYS,
      limit,
      cursor,
    );
  }
}

/** What removing a stored record (image or sample) does to the counts. */
export function removedDelta(item: Item, into: CountDelta = new Map()): CountDelta {
  const sk = item.sk as string;
  if (sk.startsWith(SAMPLE_SK_PREFIX)) return sampleDelta(item as unknown as Sample, undefined, into);
  if (sk.startsWith(IMAGE_SK_PREFIX)) return imageDelta(item as unknown as ImageRecord, undefined, into);
  return into;
}
