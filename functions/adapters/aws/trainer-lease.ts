// One trainer per project at a time, across Lambda containers: a lease item in the samples table (sk `q#trainer`,
// outside the `i#`/`s#` ranges that listings read). A trigger that arrives while another container holds the
// lease does not train: it marks the lease `pending`, and the holder trains once more (on the labels as they are
// then) before it lets go. So a burst of triggers costs one retrain plus at most one rerun, and the last labels of
// a burst are always trained on. A lease that outlives its holder (a crashed or timed-out container) expires.

import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionFailed } from './dynamo.js';

export const LEASE_SK = 'q#trainer';

export type LeaseOutcome = 'acquired' | 'queued';

export class DynamoTrainerLease {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes the project's lease, or (held by someone else) leaves work for its holder. */
  async acquireOrQueue(projectId: string, holder: string, ttlMs: number): Promise<LeaseOutcome> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const now = this.now();
      try {
        await this.update(projectId, {
          UpdateExpression: 'SET holder = :holder, expiresAt = :expires, pending = :false',
          ConditionExpression: 'attribute_not_exists(holder) OR expiresAt < :now',
          ExpressionAttributeValues: { ':holder': holder, ':expires': now + ttlMs, ':false': false, ':now': now },
        });
        return 'acquired';
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
      }
      try {
        await this.update(projectId, {
          UpdateExpression: 'SET pending = :true',
          ConditionExpression: 'attribute_exists(holder) AND expiresAt >= :now AND holder <> :holder',
          ExpressionAttributeValues: { ':true': true, ':now': now, ':holder': holder },
        });
        return 'queued';
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
        // Released (or expired) between the two calls: try to take it again.
      }
    }
    throw new Error(`trainer lease of ${projectId}: contended 10 times in a row`);
  }

  /**
   * Lets go of the lease, unless work was queued meanwhile: then the lease is kept (renewed) and the answer is
   * true (train again). False also when the lease was lost (expired and taken over).
   */
  async releaseOrRenew(projectId: string, holder: string, ttlMs: number): Promise<boolean> {
    try {
      await this.update(projectId, {
        UpdateExpression: 'REMOVE holder, expiresAt',
        ConditionExpression: 'holder = :holder AND pending = :false',
        ExpressionAttributeValues: { ':holder': holder, ':false': false },
      });
      return false;
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
    try {
      await this.update(projectId, {
        UpdateExpression: 'SET pending = :false, expiresAt = :expires',
        ConditionExpression: 'holder = :holder',
        ExpressionAttributeValues: { ':holder': holder, ':false': false, ':expires': this.now() + ttlMs },
      });
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  /** Lets go whatever is pending (after a failure, or when out of time): the next trigger takes over. */
  async release(projectId: string, holder: string): Promise<void> {
    try {
      await this.update(projectId, {
        UpdateExpression: 'REMOVE holder, expiresAt',
        ConditionExpression: 'holder = :holder',
        ExpressionAttributeValues: { ':holder': holder },
      });
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }

  private update(projectId: string, input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName' | 'Key'>) {
    return this.doc.send(new UpdateCommand({ TableName: this.table, Key: { projectId, sk: LEASE_SK }, ...input }));
  }
}
