// RankingStore on DynamoDB: one item per project in the samples table (sk `q#ranked`, outside the `i#`/`s#`
// ranges that listings read). Probabilities are stored as fp16 binary to keep the item small.

import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RankedQueue } from '../../domain/model.js';
import type { RankingStore } from '../../domain/ports.js';
import { decodeProbs, encodeProbs, RANKING_SK } from '../ranking-codec.js';

export class DynamoRankingStore implements RankingStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(projectId: string): Promise<RankedQueue | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { projectId, sk: RANKING_SK } }));
    if (!out.Item) return undefined;
    const { sk: _sk, probs, ...rest } = out.Item as RankedQueue & { sk: string; probs?: Uint8Array };
    return { ...rest, ...(probs ? { probs: decodeProbs(probs) } : {}) } as RankedQueue;
  }

  async put(queue: RankedQueue): Promise<void> {
    const { probs, ...rest } = queue;
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...rest, sk: RANKING_SK, ...(probs ? { probs: encodeProbs(probs) } : {}) },
      }),
    );
  }
}
