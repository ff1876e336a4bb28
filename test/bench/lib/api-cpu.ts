// CPU time of one thread of this process (Linux /proc; undefined elsewhere): the API's own thread, separately from
// the trainer's worker thread that process.cpuUsage() lumps in with it.

import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc times (100 on Linux, whatever the kernel's HZ). */
const TICKS_PER_SECOND = 100;

/** The main thread by default (its thread id is the process id). */
export function threadCpuMs(tid = process.pid): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th of the line.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}
