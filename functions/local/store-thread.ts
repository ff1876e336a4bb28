// The local API's DynamoDB calls on a worker thread of their own (store-thread-child.ts), with its own SDK client.
// The stores, the domain and the routes are unchanged: the stores are handed a document client whose `send` posts
// the document command (its lib-dynamodb name and its input, as the adapter built it) to the thread and returns
// what the SDK returned there, or throws an error of the same name, message and metadata.
//
// Why: one process serves every labeler, and each DynamoDB call costs the thread that makes it ~0.5 ms of CPU in
// the SDK (serialising, signing, the endpoint and retry middleware, parsing) and ~110 KiB of garbage
// (`npm run bench:api -- --heap-profile`): more than half of what the API's thread allocated per label, so more
// than half of its young-generation pauses, and a third of its CPU. While that thread runs them, a labeler's
// request waits. On the store thread they use the other core, and a message each way costs the API's thread a
// structured clone of the input and of the output. In the cloud each API function serves one request at a time:
// the SDK runs in place there.
//
// The thread starts with the stack and loads while the emulators start; calls made before it is ready (the start's
// own reads and repairs) run in this thread. A thread that died is started again on the next call, which runs here
// meanwhile; the calls it had in flight fail (their requests may or may not have reached the emulator, as with a
// dropped connection). The thread dies with the process.

import { Worker } from 'node:worker_threads';
import * as lib from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsConfig } from '../adapters/aws/clients.js';
import { isBackground } from '../domain/background.js';
import type { Log } from '../domain/ports.js';
import { PendingCalls } from './pending-calls.js';

const ENTRY = new URL('./store-thread-entry.mjs', import.meta.url);

/** Background calls out at once; the rest wait for their turn, up to BACKGROUND_WAITING_MAX of them. */
const BACKGROUND_IN_FLIGHT = 2;
const BACKGROUND_WAITING_MAX = 16;

export type ToStoreThread = { kind: 'configure'; config: Omit<AwsConfig, 'clock'> } | { kind: 'send'; id: number; op: string; input: unknown };
export type FromStoreThread = { kind: 'ready' } | { kind: 'reply'; id: number; output?: unknown; error?: SdkErrorFields };

/** What callers read of an SDK error: its name (the adapters decide by it), message and metadata. */
export interface SdkErrorFields {
  name: string;
  message: string;
  $fault?: string;
  $metadata?: unknown;
  CancellationReasons?: unknown;
  Item?: unknown;
}

export function serializeSdkError(err: unknown): SdkErrorFields {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const e = err as Error & Partial<SdkErrorFields>;
  const fields: SdkErrorFields = { name: e.name, message: e.message };
  for (const k of ['$fault', '$metadata', 'CancellationReasons', 'Item'] as const) if (e[k] !== undefined) fields[k] = e[k] as never;
  return fields;
}

function sdkError(fields: SdkErrorFields): Error {
  const { name, message, ...rest } = fields;
  return Object.assign(new Error(message), { name }, rest);
}

type Command = { input: unknown };

/** lib-dynamodb's document command classes by constructor: what the thread can rebuild from a name. */
const DOCUMENT_COMMANDS = new Map<unknown, string>(
  Object.entries(lib)
    .filter(([, v]) => typeof v === 'function' && v.prototype instanceof lib.DynamoDBDocumentClientCommand)
    .map(([name, v]) => [v, name]),
);

export interface StoreThread {
  /**
   * The document client for the stores, once the emulators' endpoints are known: document commands go to the thread,
   * anything else (options, a callback) to `inProcess`, and every call while the thread loads. Called once.
   */
  documentClient(config: Omit<AwsConfig, 'clock'>, inProcess: DynamoDBDocumentClient): DynamoDBDocumentClient;
  /** Commands sent to the thread so far (each one SDK call there, one emulator request unless retried). */
  readonly sent: number;
  /** Resolves once the thread has made its clients (until then calls run in this thread). */
  untilReady(): Promise<void>;
  /** Ends the thread once its calls in flight are answered. */
  close(): Promise<void>;
}

/**
 * Starts the thread now, so that it loads (the TypeScript loader, the SDK: ~0.3 s) while the emulators start; its
 * clients are made once `documentClient` gives it their endpoints.
 */
export function startStoreThread(log: Log = () => undefined): StoreThread {
  let worker: Worker | undefined;
  /** The running thread has made its clients: until then (it loads, or a new one replaces a dead one) calls run here. */
  let ready = false;
  let configured: { config: Omit<AwsConfig, 'clock'>; inProcess: DynamoDBDocumentClient } | undefined;
  const readyWaiters: (() => void)[] = [];
  let closed = false;
  let sent = 0;
  const pending = new PendingCalls();

  const start = (): Worker => {
    // execArgv cleared: the entry registers the TypeScript loader itself (the parent may run under vitest).
    const w = new Worker(ENTRY, { execArgv: [], name: 'winnow-store' });
    w.unref();
    if (configured) w.postMessage({ kind: 'configure', config: configured.config } satisfies ToStoreThread);
    w.on('message', (m: FromStoreThread) => {
      if (m.kind === 'ready') {
        if (worker !== w) return;
        ready = true;
        for (const r of readyWaiters.splice(0)) r();
        return;
      }
      pending.answer(m.id, m.error && sdkError(m.error), m.output);
      if (pending.size === 0) w.unref();
    });
    const lost = (why: string) => {
      if (worker === w) {
        worker = undefined;
        ready = false;
        if (!closed) log(`store thread ${why}: ${pending.size} call(s) in flight failed; calls run in the API's thread until a new one is ready`);
      }
      pending.failAll(new Error(`the store thread ${why}`));
    };
    w.on('error', (err) => lost(`failed: ${err.message}`));
    w.on('exit', (code) => lost(`stopped (exit code ${code})`));
    return w;
  };
  worker = start();

  // Background calls (domain/background.ts) wait here while BACKGROUND_IN_FLIGHT of them are out, so that a burst of
  // them never stands in the emulator's queue ahead of a call a labeler waits for. Labels can come faster than two
  // calls at a time complete them (labelers who never pause): with BACKGROUND_WAITING_MAX waiting, the next go at once,
  // so completions never fall more than that behind.
  let backgroundOut = 0;
  const backgroundQueue: (() => void)[] = [];
  const inTurn = async (command: Command, op: string): Promise<unknown> => {
    if (backgroundOut >= BACKGROUND_IN_FLIGHT && backgroundQueue.length < BACKGROUND_WAITING_MAX) await new Promise<void>((r) => backgroundQueue.push(r));
    backgroundOut++;
    try {
      return await call(command, op);
    } finally {
      backgroundOut--;
      backgroundQueue.shift()?.();
    }
  };

  const call = (command: Command, op: string): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (closed) return reject(new Error('the store thread is closed'));
      const w = worker;
      if (!w || !ready) {
        worker ??= start(); // a dead thread is replaced; until the thread is ready, calls run here
        return configured!.inProcess.send(command as never).then(resolve, reject);
      }
      let id: number | undefined;
      try {
        id = pending.add(resolve, reject);
        w.postMessage({ kind: 'send', id, op, input: command.input } satisfies ToStoreThread);
      } catch (err) {
        // An input that cannot be copied (a function in an item): refused here, as the SDK would.
        return pending.answer(id!, err as Error);
      }
      sent++;
      w.ref(); // keep the process alive while calls are in flight
    });

  return {
    documentClient(config, inProcess) {
      if (configured) throw new Error('the store thread is configured once');
      configured = { config, inProcess };
      worker?.postMessage({ kind: 'configure', config } satisfies ToStoreThread);
      return {
        send(...args: unknown[]): Promise<unknown> {
          const [command, optionsOrCb, cb] = args;
          const op = optionsOrCb === undefined && cb === undefined ? DOCUMENT_COMMANDS.get((command as object)?.constructor) : undefined;
          if (!op) return (inProcess.send as (...a: unknown[]) => Promise<unknown>)(...args);
          return isBackground() ? inTurn(command as Command, op) : call(command as Command, op);
        },
        destroy(): void {},
      } as unknown as DynamoDBDocumentClient;
    },
    get sent() {
      return sent;
    },
    untilReady: () => (ready ? Promise.resolve() : new Promise<void>((r) => readyWaiters.push(r))),
    async close() {
      if (closed) return;
      closed = true;
      // Its calls in flight are answered first; ending the thread closes its sockets.
      await pending.idle();
      await worker?.terminate();
      worker = undefined;
    },
  };
}
