// In-memory RankingStore; round-trips through the same fp16 codec as DynamoDB so precision matches.

import type { RankedQueue } from '../../domain/model.js';
import type { RankingStore } from '../../domain/ports.js';
import { plainCopy } from '../plain.js';
import { decodeProbs, encodeProbs } from '../ranking-codec.js';

export class MemoryRankingStore implements RankingStore {
  private readonly queues = new Map<string, RankedQueue>();

  async get(projectId: string): Promise<RankedQueue | undefined> {
    const q = this.queues.get(projectId);
    return q && { ...plainCopy({ ...q, probs: undefined }), ...(q.probs ? { probs: q.probs.slice() } : {}) };
  }

  async put(queue: RankedQueue): Promise<void> {
    const probs = queue.probs ? decodeProbs(encodeProbs(queue.probs)) : undefined;
    this.queues.set(queue.projectId, { ...plainCopy({ ...queue, probs: undefined }), ...(probs ? { probs } : {}) });
  }

  async delete(projectId: string): Promise<void> {
    this.queues.delete(projectId);
  }

  /** Projects with a ranking (a scan), for tests that check a deletion left nothing. */
  projectIds(): string[] {
    return [...this.queues.keys()];
  }
}
