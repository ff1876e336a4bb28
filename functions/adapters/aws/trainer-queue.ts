// The cloud's retrain trigger: a message on the trainer queue. Triggers are coalesced per invocation (one message
// per project, however many labels or images the invocation produced) and sent before the invocation returns:
// Lambda freezes a container as soon as its handler returns, so a send still in flight could be lost.
// Two trainers never train one project at once (functions/adapters/aws/trainer-lease.ts), so a burst of
// messages costs one retrain plus at most one rerun.

import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';

export interface TrainRequest {
  projectId: string;
  /** Samples whose labels changed (informational: the trainer re-reads every label from the store). */
  sampleIds?: string[];
}

/** SQS accepts at most 10 entries per batch and 256 KiB per message: sample ids beyond this are left out. */
const MAX_SAMPLE_IDS = 500;

export interface TrainerTriggers {
  /** Notes that a project's labels or embeddings changed. Synchronous and free: nothing is sent yet. */
  add(projectId: string, sampleIds?: readonly string[]): void;
  /** Sends one message per noted project and waits for SQS to accept them; throws if any was refused. */
  flush(): Promise<void>;
}

export function sqsTrainerTriggers(sqs: SQSClient, queueUrl: string): TrainerTriggers {
  let pending = new Map<string, Set<string>>();
  return {
    add(projectId, sampleIds = []) {
      const ids = pending.get(projectId) ?? new Set<string>();
      for (const id of sampleIds) ids.add(id);
      pending.set(projectId, ids);
    },
    async flush() {
      const batch = pending;
      pending = new Map();
      const requests: TrainRequest[] = [...batch].map(([projectId, ids]) => ({
        projectId,
        ...(ids.size ? { sampleIds: [...ids].slice(0, MAX_SAMPLE_IDS) } : {}),
      }));
      for (let i = 0; i < requests.length; i += 10) {
        const chunk = requests.slice(i, i + 10);
        const out = await sqs.send(new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((r, j) => ({ Id: String(j), MessageBody: JSON.stringify(r) })),
        }));
        if (out.Failed?.length) {
          const names = out.Failed.map((f) => `${chunk[Number(f.Id)].projectId} (${f.Code}: ${f.Message})`).join(', ');
          throw new Error(`trainer trigger refused by SQS for ${names}`);
        }
      }
    },
  };
}
