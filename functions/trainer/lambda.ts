// Composition root of the trainer Lambda, fed by the trainer queue (`{ projectId, sampleIds? }` messages). Each
// project named in a batch is retrained once, by at most one container at a time (a lease per project in
// DynamoDB; a trigger that finds the lease taken leaves the rerun to its holder). Every run reads all labels from
// the store and numbers its ranking from the stored one, so a container's memory never holds stale labels; only
// the embeddings (append-only shards) are cached between warm runs.

import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { createAwsStores, type AwsStores } from '../adapters/aws/clients.js';
import { trainerConfig, type TrainerConfig } from '../adapters/aws/env.js';
import { DynamoTrainerLease } from '../adapters/aws/trainer-lease.js';
import type { TrainRequest } from '../adapters/aws/trainer-queue.js';
import { createLogger } from '../adapters/log.js';
import type { Log } from '../domain/ports.js';
import { retrainProject, type ProjectTrainingState } from '../domain/retrain.js';
import { rankingRetrainPorts } from '../adapters/ranking-codec.js';

/** Time kept back from the function's timeout when deciding whether another run fits. */
const SAFETY_MS = 30_000;

const logger = createLogger({ format: 'json' });
let container: { config: TrainerConfig; stores: AwsStores; lease: DynamoTrainerLease } | undefined;
const states = new Map<string, ProjectTrainingState>();

function init() {
  if (container) return container;
  const config = trainerConfig();
  const stores = createAwsStores(config);
  const lease = new DynamoTrainerLease(stores.clients.doc, config.tables.samples, () => stores.clock.now());
  return (container = { config, stores, lease });
}

/** The projects of a batch (malformed messages are dropped: a retry cannot fix them), with their message ids. */
export function projectsOf(event: SQSEvent, log: Log = logger.error): Map<string, string[]> {
  const byProject = new Map<string, string[]>();
  for (const message of event.Records) {
    try {
      const request = JSON.parse(message.body) as (Partial<TrainRequest> & { kind?: unknown }) | null;
      if (request?.kind !== undefined) throw new Error(`not a training request (kind ${String(request.kind)}): export jobs have their own queue`);
      if (typeof request?.projectId !== 'string' || !request.projectId) throw new Error('no projectId');
      byProject.set(request.projectId, [...(byProject.get(request.projectId) ?? []), message.messageId]);
    } catch (err) {
      log(`trainer: message ${message.messageId} dropped: ${(err as Error).message}`, { messageId: message.messageId });
    }
  }
  return byProject;
}

export async function handler(event: SQSEvent, context?: Pick<Context, 'awsRequestId' | 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> {
  const { config, stores, lease } = init();
  const remaining = () => context?.getRemainingTimeInMillis() ?? 900_000;
  const holder = `${context?.awsRequestId ?? randomUUID()}`;
  const log = logger.with({ requestId: holder });
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  for (const [projectId, messageIds] of projectsOf(event, log.error)) {
    try {
      const project = await stores.projects.get(projectId);
      if (!project) continue; // deleted: nothing to rank
      if ((await lease.acquireOrQueue(projectId, holder, remaining())) === 'queued') {
        log('retrain queued behind the running trainer', { projectId });
        continue;
      }
      try {
        let runs = 0;
        let rerun = true;
        while (rerun) {
          const started = Date.now();
          const current = (await stores.projects.get(projectId)) ?? project;
          const state = states.get(projectId) ?? {};
          states.set(projectId, state);
          // No `changed` list: every label is read from the store (another container may have trained meanwhile).
          const result = await retrainProject(stores, rankingRetrainPorts, current, state, { embedder: current.embedding?.model ?? config.embedder, auditRate: config.auditRate });
          runs++;
          if (result) log('retrained', { projectId, run: runs, ...result });
          const took = Date.now() - started;
          if (remaining() < 2 * took + SAFETY_MS) {
            // No time for another run: let go; the next trigger trains on whatever was labeled meanwhile.
            await lease.release(projectId, holder);
            break;
          }
          rerun = await lease.releaseOrRenew(projectId, holder, remaining());
        }
      } catch (err) {
        await lease.release(projectId, holder).catch(() => undefined);
        throw err;
      }
    } catch (err) {
      log.error(`trainer: ${projectId} failed`, { projectId, error: err });
      for (const id of messageIds) failures.push({ itemIdentifier: id });
    }
  }
  return { batchItemFailures: failures };
}
