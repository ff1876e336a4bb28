// RankingStore on DynamoDB: one item per project in the samples table (sk `q#ranked`, outside the `i#`/`s#`
// ranges that listings read). Probabilities are stored as fp16 binary and the ranked sample ids as one string:
// every API process reads this item after each retrain, and a list of 2000 string attributes costs ~4 ms of
// (event-loop blocking) SDK work to decode where one string costs almost nothing.

import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionFailed } from './dynamo.js';
import type { RankedQueue } from '../../domain/model.js';
import type { RankingStore } from '../../domain/ports.js';
import { decodeProbs, encodeProbs, RANKING_SK } from '../ranking-codec.js';

/** Never part of a sample id (ids are URL- and S3-key-safe), so it can join them. */
const ID_SEPARATOR = '\n';

type StoredRanking = Omit<RankedQueue, 'probs' | 'sampleIds'> & {
  sk: string;
  probs?: Uint8Array;
  /** The ranked ids joined by ID_SEPARATOR (items written before this existed carry `sampleIds` instead). */
  rankedIds?: string;
  sampleIds?: string[];
};

export class DynamoRankingStore implements RankingStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(projectId: string): Promise<RankedQueue | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { projectId, sk: RANKING_SK } }));
    if (!out.Item) return undefined;
    const { sk: _sk, probs, rankedIds, sampleIds, ...rest } = out.Item as StoredRanking;
    const ids = rankedIds !== undefined ? (rankedIds === '' ? [] : rankedIds.split(ID_SEPARATOR)) : (sampleIds ?? []);
    return { ...rest, sampleIds: ids, ...(probs ? { probs: decodeProbs(probs) } : {}) };
  }

  /**
   * Stores the ranking unless the stored one has the same or a newer generation: an older ranking (a trainer
   * that finished late) never replaces a newer one; it is dropped without an error.
   */
  async put(queue: RankedQueue): Promise<void> {
    const { probs, sampleIds, ...rest } = queue;
    const joinable = !sampleIds.some((id) => id.includes(ID_SEPARATOR));
    const item: StoredRanking = {
      ...rest,
      sk: RANKING_SK,
      ...(joinable ? { rankedIds: sampleIds.join(ID_SEPARATOR) } : { sampleIds }),
      ...(probs ? { probs: encodeProbs(probs) } : {}),
    };
    try {
      await this.doc.send(new PutCommand({
        TableName: this.table,
        Item: item,
        ConditionExpression: 'attribute_not_exists(generation) OR generation < :generation',
        ExpressionAttributeValues: { ':generation': queue.generation },
      }));
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }

  async delete(projectId: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { projectId, sk: RANKING_SK } }));
  }
}
