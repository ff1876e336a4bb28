// Latency as the API's own HTTP server sees it (request parsed -> response finished), per route, from Node's
// diagnostics channels: set beside the labelers' figures it tells the server's share of a slow answer from time
// spent in the load generator's process or waiting for a CPU on a shared machine.

import diagnostics from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestKind } from './api-labelers.js';
import { summarize, type LatencySummary } from './latency.js';

export function serverTiming(kindOf: (method: string, url: string) => RequestKind | undefined) {
  const started = new WeakMap<ServerResponse, { kind: RequestKind; at: number }>();
  const times: Record<RequestKind, number[]> = { next: [], annotate: [] };
  let recording = false;
  const onStart = (message: unknown) => {
    const { request, response } = message as { request: IncomingMessage; response: ServerResponse };
    const kind = recording ? kindOf(request.method ?? '', request.url ?? '') : undefined;
    if (kind) started.set(response, { kind, at: performance.now() });
  };
  const onFinish = (message: unknown) => {
    const { response } = message as { response: ServerResponse };
    const start = started.get(response);
    if (start) times[start.kind].push(performance.now() - start.at);
  };
  diagnostics.subscribe('http.server.request.start', onStart);
  diagnostics.subscribe('http.server.response.finish', onFinish);
  return {
    start: () => {
      recording = true;
    },
    stop: (): Record<RequestKind, LatencySummary> => {
      recording = false;
      diagnostics.unsubscribe('http.server.request.start', onStart);
      diagnostics.unsubscribe('http.server.response.finish', onFinish);
      return { next: summarize(times.next), annotate: summarize(times.annotate) };
    },
  };
}

/** The labelers' two requests, by path. */
export function labelingRequestKind(method: string, url: string): RequestKind | undefined {
  if (method === 'GET' && /\/next(\?|$)/.test(url)) return 'next';
  if (method === 'POST' && url.includes('/annotations')) return 'annotate';
  return undefined;
}
