// AnnotationStore on DynamoDB: pk `<projectId>#<sampleId>`, sk `version`. A version is claimed by a conditional
// put, so a retried label write finds its own record instead of writing a second one. The `byProject` GSI
// (pk projectId, sk `<sampleId>#<version>`) serves the export without a scan; the sparse `served` GSI (pk projectId,
// sk `<at>#<sampleId>#<version>`, only on labels with a served live point) the quality chart's newest points.

import { DeleteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConditionFailed } from '../../domain/errors.js';
import type { Annotation } from '../../domain/model.js';
import type { AnnotationStore, Page } from '../../domain/ports.js';
import { annotationSampleKey, annotationSortKey, servedSortKey } from '../keys.js';
import { PAGE_LIMITS, pageLimit } from '../paging.js';
import { plainCopy } from '../plain.js';
import { batchDelete, isConditionFailed, queryAll, queryPage, withoutAttrs, type Item } from './dynamo.js';

const STORAGE_ATTRS = ['sampleKey', 'sortKey', 'servedKey'] as const;
const toAnnotation = (item: Item) => withoutAttrs<Annotation>(item, STORAGE_ATTRS);

export class DynamoAnnotationStore implements AnnotationStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async append(annotation: Annotation): Promise<{ created: boolean; stored: Annotation }> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...annotation,
            sampleKey: annotationSampleKey(annotation.projectId, annotation.sampleId),
            sortKey: annotationSortKey(annotation.sampleId, annotation.version),
            ...withServedKey(annotation),
          },
          ConditionExpression: 'attribute_not_exists(#version)',
          ExpressionAttributeNames: { '#version': 'version' },
        }),
      );
      return { created: true, stored: plainCopy(annotation) };
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
    const stored = await this.get(annotation.projectId, annotation.sampleId, annotation.version);
    // Only a deletion (of the image, project or labeler's work) removes records; then the claim's record is gone.
    if (!stored) throw new ConditionFailed(`annotation ${annotation.sampleId}@${annotation.version} vanished`);
    return { created: false, stored };
  }

  async get(projectId: string, sampleId: string, version: number): Promise<Annotation | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { sampleKey: annotationSampleKey(projectId, sampleId), version },
        ConsistentRead: true,
      }),
    );
    return out.Item && toAnnotation(out.Item);
  }

  async listForSample(projectId: string, sampleId: string): Promise<Annotation[]> {
    const items = await queryAll(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'sampleKey = :k',
      ExpressionAttributeValues: { ':k': annotationSampleKey(projectId, sampleId) },
      ConsistentRead: true,
    });
    return items.map(toAnnotation);
  }

  async newestServed(projectId: string, limit: number): Promise<Pick<Annotation, 'projectId' | 'sampleId' | 'version' | 'at' | 'live'>[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    while (items.length < limit) {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'served',
          KeyConditionExpression: 'projectId = :p',
          ExpressionAttributeValues: { ':p': projectId },
          ProjectionExpression: '#p, #s, #v, #at, #live',
          ExpressionAttributeNames: { '#p': 'projectId', '#s': 'sampleId', '#v': 'version', '#at': 'at', '#live': 'live' },
          ScanIndexForward: false,
          Limit: limit - items.length,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
      if (!start) break;
    }
    return items as Pick<Annotation, 'projectId' | 'sampleId' | 'version' | 'at' | 'live'>[];
  }

  async listForProject(projectId: string, opts: { cursor?: string; limit?: number } = {}): Promise<Page<Annotation>> {
    const page = await queryPage(
      this.doc,
      {
        TableName: this.table,
        IndexName: 'byProject',
        KeyConditionExpression: 'projectId = :p',
        ExpressionAttributeValues: { ':p': projectId },
      },
      ['sampleKey', 'version', 'projectId', 'sortKey'],
      pageLimit(opts.limit, PAGE_LIMITS.annotations),
      opts.cursor,
    );
    return { ...page, items: page.items.map(toAnnotation) };
  }

  async deleteMany(projectId: string, records: { sampleId: string; version: number }[]): Promise<void> {
    await batchDelete(this.doc, this.table, records.map((r) => ({ sampleKey: annotationSampleKey(projectId, r.sampleId), version: r.version })));
  }

  async delete(projectId: string, sampleId: string, version: number): Promise<void> {
    await this.doc.send(
      new DeleteCommand({ TableName: this.table, Key: { sampleKey: annotationSampleKey(projectId, sampleId), version } }),
    );
  }
}

/** The `served` index's key, on label records with a served live point only. */
export function withServedKey(annotation: Annotation): { servedKey?: string } {
  const servedKey = servedSortKey(annotation);
  return servedKey === undefined ? {} : { servedKey };
}
