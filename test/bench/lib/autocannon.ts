// The part of autocannon's programmatic API the benchmarks use, typed here (the package ships no types).

import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';

export interface CannonRequest<C> {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Builds the request from what earlier responses left in `context`; null skips to the first request. */
  setupRequest?: (req: CannonRequest<C>, context: C) => CannonRequest<C> | null;
  onResponse?: (status: number, body: string, context: C, headers: Record<string, string | string[]>) => void;
}

export interface CannonOptions<C> {
  url: string;
  connections: number;
  /** Seconds. */
  duration: number;
  headers?: Record<string, string>;
  requests: CannonRequest<C>[];
  /** Copied afresh each time the request sequence starts over. */
  initialContext?: C;
  /** Requests per second per connection, paced in one-second windows (`rate` is not an option: it is ignored). */
  connectionRate?: number;
  /** Seconds before a request counts as timed out. */
  timeout?: number;
}

export interface CannonResult {
  errors: number;
  timeouts: number;
  non2xx: number;
  requests: { total: number };
}

/** Emits 'response' (client, status, bytes, ms) right after the request's `onResponse`, and 'reqError' (error). */
export interface CannonInstance extends EventEmitter {
  stop(): void;
}

type Autocannon = <C>(opts: CannonOptions<C>, done: (err: Error | null, result: CannonResult) => void) => CannonInstance;

const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as Autocannon;

/** Starts a run; `finished` settles with autocannon's own totals. */
export function startCannon<C>(opts: CannonOptions<C>): { instance: CannonInstance; finished: Promise<CannonResult> } {
  let instance!: CannonInstance;
  const finished = new Promise<CannonResult>((resolve, reject) => {
    instance = autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
  return { instance, finished };
}
