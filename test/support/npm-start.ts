// `npm start` as a user runs it: the local stack's entry point in a child process of its own (so that a test can
// SIGKILL it), ready once it prints its banner.

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { killOnExit } from '../../functions/local/emulators.js';
import { REPO } from './paths.js';
import { SERVING_GC_FLAGS } from '../../functions/local/node-flags.js';

export interface StartedProcess {
  child: ChildProcess;
  url: string;
  readyMs: number;
  output: () => string;
}

/** Starts `functions/local/main.ts` on a free port with `dataDir`; `env` is added to this process's environment. */
export function startNpm(dataDir: string, extra: string[] = [], env: Record<string, string> = {}): Promise<StartedProcess> {
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', ...SERVING_GC_FLAGS, '--import', 'tsx', path.join(REPO, 'functions/local/main.ts'), '--port', '0', '--data', dataDir, ...extra],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PORT: '', WINNOW_MODELS_FETCH: '0', ...env } }, // no downloads from a test
  );
  killOnExit(child); // a test process that dies takes the server (and so its emulators) with it
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready after 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /Winnow is running at (\S+)\s+\(ready in (\d+) ms\)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1], readyMs: Number(m[2]), output: () => output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
  });
}

/** Resolves once the process has exited (after SIGKILL, its children go with it: see emulator-guard.cjs). */
export function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** True when nothing listens on the loopback port (a stopped stack's ports are free again). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}
