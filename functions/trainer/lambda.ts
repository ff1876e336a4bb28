// Composition root of the trainer Lambda, fed by the trainer queue. Messages are grouped by project and each
// project is retrained once per batch. State (embeddings, labels, last model) stays in the warm container, so a
// warm run reads only new embedding shards and the samples that changed.

import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createAwsStores, type AwsStores } from '../adapters/aws/clients.js';
import { parseCloudEnv } from '../adapters/aws/env.js';
import type { TrainRequest } from '../adapters/aws/trainer-queue.js';
import { isExportMessage, type ExportMessage } from '../adapters/export/runners.js';
import { awsExportDeps } from '../adapters/export/service.js';
import { runExport, type ExportDeps } from '../domain/interchange/export/job.js';
import { retrainProject, type ProjectTrainingState } from './retrain.js';

const EMBEDDER = process.env.WINNOW_EMBEDDER ?? 'mobilenetv2-features';
const states = new Map<string, ProjectTrainingState>();
let stores: AwsStores | undefined;
let exportDeps: ExportDeps | undefined;

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const config = parseCloudEnv(process.env);
  stores ??= createAwsStores(config);
  const byProject = new Map<string, { messageIds: string[]; sampleIds: Set<string> }>();
  // Export jobs share this queue (and this function's time and memory); they run after the batch's retrains.
  const exports: { messageId: string; job: ExportMessage }[] = [];
  for (const message of event.Records) {
    let request: TrainRequest;
    try {
      const body: unknown = JSON.parse(message.body);
      if (isExportMessage(body)) {
        exports.push({ messageId: message.messageId, job: body });
        continue;
      }
      request = body as TrainRequest;
      if (typeof request.projectId !== 'string') throw new Error('no projectId');
    } catch (err) {
      console.error(`trainer: message ${message.messageId} dropped: ${(err as Error).message}`);
      continue; // malformed: a retry cannot fix it
    }
    const group = byProject.get(request.projectId) ?? { messageIds: [], sampleIds: new Set<string>() };
    group.messageIds.push(message.messageId);
    for (const id of request.sampleIds ?? []) group.sampleIds.add(id);
    byProject.set(request.projectId, group);
  }
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  for (const [projectId, group] of byProject) {
    try {
      const project = await stores.projects.get(projectId);
      if (!project) continue; // deleted: nothing to rank
      const state = states.get(projectId) ?? {};
      states.set(projectId, state);
      const result = await retrainProject(stores, project, state, {
        embedder: project.embedding?.model ?? EMBEDDER,
        changed: state.labels ? [...group.sampleIds] : undefined,
      });
      if (result) console.log(JSON.stringify({ msg: 'retrained', projectId, ...result }));
    } catch (err) {
      console.error(`trainer: ${projectId} failed: ${(err as Error).stack}`);
      for (const id of group.messageIds) failures.push({ itemIdentifier: id });
    }
  }
  for (const { messageId, job } of exports) {
    // Jobs are started by the API; this function only runs them (no runner to dispatch new ones).
    exportDeps ??= awsExportDeps(stores, {
      bucket: config.bucket,
      defaultEmbeddingModel: EMBEDDER,
      log: (line) => console.error(line),
    });
    try {
      const status = await runExport(exportDeps, job);
      console.log(JSON.stringify({ msg: 'export', ...job, state: status?.state, bytes: status?.bytes, reason: status?.reason }));
    } catch (err) {
      // Only when its status could not be recorded: let the queue try again.
      console.error(`trainer: export ${job.exportId} failed: ${(err as Error).stack}`);
      failures.push({ itemIdentifier: messageId });
    }
  }
  return { batchItemFailures: failures };
}
