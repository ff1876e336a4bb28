// The local stack's trainer runs in a child process of its own, at background priority (as the trainer Lambda runs
// apart from the API in the cloud). A worker thread was not enough: a retrain allocates heavily, and V8's garbage
// collector helper threads, which a worker shares with the API's thread, then competed with the labelers' requests
// at normal priority. A process of its own has its own collector threads, and all of its threads are lowered.
// The protocol is the TrainerRunner interface over IPC; a child that died is started again on the next call (its
// per-project caches are rebuilt from storage, as after a restart).

import { fork, spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AwsConfig } from '../adapters/aws/clients.js';
import type { RetrainRequest, TrainerRunner } from '../trainer/runner.js';
import { BACKGROUND_NICE } from './thread-priority.js';

const ENTRY = new URL('./trainer-process-entry.mjs', import.meta.url);

type Kind = 'retrain' | 'similar';
interface Reply {
  id: number;
  result?: unknown;
  error?: string;
}

/**
 * 'background' (the default): every thread of the process at nice 19, under SCHED_IDLE where chrt exists, so the
 * trainer takes only CPU time nothing else wants. 'normal': the parent's priority, for callers that wait for a
 * retrain on a machine busy with other work (under SCHED_IDLE it would wait for an idle core).
 */
export type TrainerPriority = 'background' | 'normal';

export function trainerProcessRunner(config: Omit<AwsConfig, 'clock'>, priority: TrainerPriority = 'background'): TrainerRunner {
  const background = priority === 'background';
  let child: ChildProcess | undefined;
  let nextId = 0;
  let closing = false;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };

  const start = (): ChildProcess => {
    // execArgv is cleared: the entry registers the TypeScript loader itself (the parent may run under vitest).
    const options: { serialization: 'advanced'; stdio: StdioOptions } = { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] };
    const proc = background && idleScheduling()
      ? spawn('chrt', ['--idle', '0', process.execPath, fileURLToPath(ENTRY)], options)
      : fork(ENTRY, [], { ...options, execArgv: [] });
    proc.on('message', (m: Reply) => {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.error !== undefined) p?.reject(new Error(m.error));
      else p?.resolve(m.result);
      if (pending.size === 0) idle(proc);
    });
    proc.on('exit', (code, signal) => {
      if (child === proc) child = undefined;
      if (!closing) failAll(new ProcessStopped(`the trainer process stopped (${signal ?? `exit code ${code}`})`));
    });
    proc.on('error', (err) => failAll(err));
    proc.send({ kind: 'start', config, ...(background ? { nice: BACKGROUND_NICE } : {}) });
    idle(proc);
    return proc;
  };

  const send = <T>(kind: Kind, args: unknown[]) =>
    new Promise<T>((resolve, reject) => {
      if (closing) throw new Error('the trainer is closed');
      if (child && !child.connected) child = undefined; // died; its 'exit' event may not have come yet
      const proc = (child ??= start());
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      busy(proc); // keep this process alive while work is in flight
      proc.send({ id, kind, args });
    });
  // A retrain only replaces the ranking and a lookup only reads: a call the process died under is sent once more,
  // to a new process.
  const call = <T>(kind: Kind, args: unknown[]) =>
    send<T>(kind, args).catch((err: unknown) => {
      if (err instanceof ProcessStopped && !closing) return send<T>(kind, args);
      throw err;
    });

  return {
    retrain: (request: RetrainRequest) => call('retrain', [request]),
    similar: (projectId, embedder, sampleId, k, opts) => call('similar', [projectId, embedder, sampleId, k, opts]),
    close: async () => {
      closing = true;
      const proc = child;
      child = undefined;
      failAll(new Error('the trainer is closed'));
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.disconnect();
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

let chrt: boolean | undefined;
/**
 * On Linux, util-linux's `chrt` starts the process under SCHED_IDLE: it runs only when a core has nothing else to
 * run, and a waking API or emulator thread takes the core from it at once (a high nice value only shrinks its share).
 */
function idleScheduling(): boolean {
  chrt ??= process.platform === 'linux' && spawnSync('chrt', ['--idle', '0', 'true'], { stdio: 'ignore' }).status === 0;
  return chrt;
}

class ProcessStopped extends Error {}

function busy(proc: ChildProcess) {
  proc.ref();
  proc.channel?.ref();
}

function idle(proc: ChildProcess) {
  proc.unref();
  proc.channel?.unref();
}
