// Loaded on the local stack's ingest thread (functions/local/ingest-thread.ts, `instrument`): counts the storage
// requests of that thread's own SDK clients and times its store calls, as ingest-run.ts does on the main thread's
// stores when ingest runs there. Called from the bench through `stack.ingest.thread.probe(name)`.

import type { AwsStores } from '../../../functions/adapters/aws/clients.js';
import { countRequests, dynamoClients } from './ingest-requests.js';
import { StageTimes, timeMethods } from './stage-times.js';

export default function instrument(stores: AwsStores) {
  const times = new StageTimes();
  times.paused = true;
  // Installed before the thread's first request (the document client's second client caches each operation's chain).
  const requests = countRequests({ s3: stores.clients.s3, dynamodb: dynamoClients(stores.clients) }, () => !times.paused);
  timeMethods(stores.blobs, 'store.s3', times.record);
  timeMethods(stores.samples, 'store.dynamodb', times.record);
  timeMethods(stores.projects, 'store.dynamodb', times.record);
  const before = { requests: requests.snapshot(), detail: requests.detail() };
  const minus = (now: Record<string, number>, then: Record<string, number>) =>
    Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - (then[k] ?? 0)]).filter(([, v]) => (v as number) > 0));
  return {
    start() {
      before.requests = requests.snapshot();
      before.detail = requests.detail();
      times.reset();
      times.paused = false;
    },
    /** Requests and store times since start; the first store call's start as epoch ms (threads have their own clocks). */
    stop() {
      times.paused = true;
      return {
        requests: minus(requests.snapshot(), before.requests),
        detail: minus(requests.detail(), before.detail),
        stages: times.snapshot(),
        firstStartedAtEpochMs: times.firstStartedAt === undefined ? undefined : performance.timeOrigin + times.firstStartedAt,
      };
    },
  };
}
