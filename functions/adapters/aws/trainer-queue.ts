// The cloud's retrain trigger: a message on the trainer queue. The queue's batching window debounces bursts of
// labels, and the trainer function's reserved concurrency of one keeps retrains one at a time.

import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

export interface TrainRequest {
  projectId: string;
  /** Samples whose labels changed (absent: new images, or a full refresh). */
  sampleIds?: string[];
}

export function sqsTrainerTrigger(sqs: SQSClient, queueUrl: string, log: (line: string) => void = console.error) {
  return (request: TrainRequest): void => {
    // Fire and forget: a lost trigger only delays the next ranking, and the next label sends another.
    sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(request) })).catch((err) => {
      log(`trainer trigger for ${request.projectId} failed: ${(err as Error).message}`);
    });
  };
}
