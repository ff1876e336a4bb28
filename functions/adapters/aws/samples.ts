// SampleStore on DynamoDB. One table per deployment holds both images (sk `i#<imageId>`) and samples
// (sk `s#<sampleId>`) of a project; the sparse GSI `queue` on `queueKey` lists samples that still need labels.

import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConditionFailed } from '../../domain/errors.js';
import type { BoxLabel, ImageRecord, LabelHead, Lease, Sample } from '../../domain/model.js';
import type { Page, SampleStore } from '../../domain/ports.js';
import { mapBounded } from '../../domain/concurrency.js';
import { IMAGE_SK_PREFIX, SAMPLE_SK_PREFIX, imageSk, sampleSk } from '../keys.js';
import { PAGE_LIMITS, pageLimit } from '../paging.js';
import { plainCopy } from '../plain.js';
import { batchDelete, isConditionFailed, queryAll, queryPage, withoutAttrs, type Item } from './dynamo.js';

/** Conditional puts in flight at once while creating an image's samples. */
const PUT_CONCURRENCY = 16;
/** DynamoDB's BatchGetItem limit. */
const BATCH_GET_LIMIT = 100;
const TABLE_KEYS = ['projectId', 'sk'] as const;

const toImage = (item: Item) => withoutAttrs<ImageRecord>(item, ['sk']);
const toSample = (item: Item) => withoutAttrs<Sample>(item, ['sk']);

export class DynamoSampleStore implements SampleStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async putImageIfAbsent(image: ImageRecord): Promise<{ image: ImageRecord; created: boolean }> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...image, sk: imageSk(image.imageId) },
          ConditionExpression: 'attribute_not_exists(sk)',
        }),
      );
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
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { ...image, sk: imageSk(image.imageId) } }));
  }

  async getImage(projectId: string, imageId: string): Promise<ImageRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { projectId, sk: imageSk(imageId) }, ConsistentRead: true }),
    );
    return out.Item && toImage(out.Item);
  }

  async listImages(projectId: string, opts: { cursor?: string; limit?: number } = {}): Promise<Page<ImageRecord>> {
    const page = await this.listPrefix(projectId, IMAGE_SK_PREFIX, pageLimit(opts.limit, PAGE_LIMITS.images), opts.cursor);
    return { ...page, items: page.items.map(toImage) };
  }

  async putSamplesIfAbsent(samples: Sample[]): Promise<number> {
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
        return 1;
      } catch (err) {
        if (isConditionFailed(err)) return 0;
        throw err;
      }
    });
    return created.reduce<number>((a, b) => a + b, 0);
  }

  async getSample(projectId: string, sampleId: string): Promise<Sample | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { projectId, sk: sampleSk(sampleId) }, ConsistentRead: true }),
    );
    return out.Item && toSample(out.Item);
  }

  async getSamples(projectId: string, sampleIds: string[]): Promise<Sample[]> {
    const found = new Map<string, Sample>();
    const unique = [...new Set(sampleIds)];
    for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT) {
      let keys: Item[] = unique.slice(i, i + BATCH_GET_LIMIT).map((id) => ({ projectId, sk: sampleSk(id) }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
        const out = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of out.Responses?.[this.table] ?? []) {
          const sample = toSample(item);
          found.set(sample.sampleId, sample);
        }
        keys = (out.UnprocessedKeys?.[this.table]?.Keys as Item[] | undefined) ?? [];
      }
    }
    return sampleIds.flatMap((id) => (found.has(id) ? [found.get(id)!] : []));
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

  async advance(
    projectId: string,
    sampleId: string,
    expectedVersion: number,
    next: { label?: LabelHead; labeledBy: string[]; queueKey?: string },
  ): Promise<Sample> {
    const set = ['#version = :next', 'labeledBy = :labeledBy'];
    // A label write ends the lease, whoever held it.
    const remove = ['#lease'];
    const values: Item = { ':expected': expectedVersion, ':next': expectedVersion + 1, ':labeledBy': next.labeledBy };
    if (next.label) {
      set.push('#label = :label');
      values[':label'] = next.label;
    } else remove.push('#label');
    if (next.queueKey !== undefined) {
      set.push('queueKey = :queueKey');
      values[':queueKey'] = next.queueKey;
    } else remove.push('queueKey');
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { projectId, sk: sampleSk(sampleId) },
          UpdateExpression: `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`,
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version', '#lease': 'lease', '#label': 'label' },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toSample(out.Attributes as Item);
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
    const keys = [...(items.sampleIds ?? []).map((id) => ({ projectId, sk: sampleSk(id) })), ...(items.imageIds ?? []).map((id) => ({ projectId, sk: imageSk(id) }))];
    await batchDelete(this.doc, this.table, keys);
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
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { projectId, sk: imageSk(imageId) } }));
  }

  async deleteSample(projectId: string, sampleId: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { projectId, sk: sampleSk(sampleId) } }));
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
