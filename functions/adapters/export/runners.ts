// Where export jobs run. Locally: in this process, one at a time (an export is I/O bound and streams; two at
// once would only share the same disk and emulators). In the cloud: a message on the trainer queue, handled by
// the trainer function (functions/trainer/lambda.ts), which has the time and memory an export needs.

import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ExportRunner } from '../../domain/interchange/export/ports.js';
import type { Log } from '../../domain/ports.js';

export interface ExportMessage {
  kind: 'export';
  projectId: string;
  exportId: string;
}

export function isExportMessage(body: unknown): body is ExportMessage {
  const m = body as Partial<ExportMessage> | null;
  return !!m && m.kind === 'export' && typeof m.projectId === 'string' && typeof m.exportId === 'string';
}

export function sqsExportRunner(sqs: SQSClient, queueUrl: string): ExportRunner {
  return {
    async dispatch(job) {
      const message: ExportMessage = { kind: 'export', ...job };
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message) }));
    },
  };
}

export interface LocalExportRunner extends ExportRunner {
  /** Resolves when every dispatched job has finished. */
  idle(): Promise<void>;
}

/** Runs jobs in this process, in order. `run` records its own failures (runExport); anything else is logged. */
export function inProcessExportRunner(
  run: (job: { projectId: string; exportId: string }) => Promise<unknown>,
  log: Log,
): LocalExportRunner {
  let chain: Promise<void> = Promise.resolve();
  return {
    async dispatch(job) {
      chain = chain.then(() =>
        run(job).then(
          () => undefined,
          (err) => log(`export ${job.exportId} of ${job.projectId} could not record its outcome: ${(err as Error).message}`),
        ),
      );
    },
    idle: () => chain,
  };
}
