// CPU time of this process's child processes (e.g. the DynamoDB emulator the local stack runs as a child), read
// from /proc on Linux; undefined elsewhere. process.cpuUsage() covers this process only.

import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (100 on Linux, whatever the kernel's HZ). */
const TICKS_PER_SECOND = 100;

/** Pids of this process's children whose command line passes `only` (every child without it). Throws without /proc. */
function childPids(only?: (commandLine: string) => boolean): string[] {
  const pids: string[] = [];
  for (const tid of readdirSync('/proc/self/task')) {
    const children = readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim();
    for (const pid of children ? children.split(/\s+/) : []) {
      if (!only || only(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '))) pids.push(pid);
    }
  }
  return pids;
}

/** `only`: count the children whose command line passes (e.g. the trainer's process apart from the emulators). */
export function childrenCpuMs(only?: (commandLine: string) => boolean): number | undefined {
  try {
    let ticks = 0;
    for (const pid of childPids(only)) {
      // Fields after the parenthesised command name; utime and stime are the 14th and 15th of the line.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    }
    return (ticks * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/**
 * Context switches (voluntary and not) of every thread of the children that pass `only`, from /proc; undefined
 * elsewhere. Each is a moment the thread gave up or lost its core: on a busy machine, a chance to wait for it again.
 */
export function childrenContextSwitches(only?: (commandLine: string) => boolean): number | undefined {
  try {
    let switches = 0;
    for (const pid of childPids(only)) {
      for (const thread of readdirSync(`/proc/${pid}/task`)) {
        const status = readFileSync(`/proc/${pid}/task/${thread}/status`, 'utf8');
        for (const m of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)$/gm)) switches += Number(m[1]);
      }
    }
    return switches;
  } catch {
    return undefined;
  }
}

/** The local stack's trainer process (functions/local/trainer-process.ts), told apart from the emulators. */
export const isTrainerProcess = (commandLine: string) => commandLine.includes('trainer-process-entry');
