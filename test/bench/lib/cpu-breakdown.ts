// Where the machine's CPU went over a phase of the ingest bench, by process and by thread (Linux /proc; undefined
// elsewhere): this process's threads grouped by kind (the JS main thread, the ingest thread, the inference threads,
// libuv's pool where sharp decodes and encodes, libvips' own threads, V8's GC and compiler helpers) and its child
// processes by what they run (the S3 and DynamoDB emulators, the trainer). process.cpuUsage() gives one sum for all
// threads, and the children's CPU not at all. Threads and children that ended within the phase are not seen: the
// uploader, which ends before the phase does, reports its own CPU (upload-child.ts).

import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (100 on Linux, whatever the kernel's HZ). */
const TICK_MS = 10;

export type CpuSnapshot = Map<string, number>;

const PROCESS = '(whole stack process)';
const ENDED = 'stack: threads that ended meanwhile (libvips)';

const THREAD_KINDS: [RegExp, string][] = [
  [/^MainThread$|^node$/, 'stack: JS main thread'],
  [/^winnow-ingest$/, 'stack: ingest thread'],
  [/^winnow-inference$|^WorkerThread$/, 'stack: inference threads (and other workers)'],
  [/^libuv-worker$/, 'stack: libuv pool (sharp, fs, crypto)'],
  [/^libvips/, 'stack: libvips threads'],
  [/^V8Worker$|^DelayedTaskSche$/, 'stack: V8 helpers (GC, compiler)'],
];

const CHILD_KINDS: [RegExp, string][] = [
  [/WINNOW_S3RVER_PATH/, 'S3 emulator (s3rver child)'],
  [/WINNOW_DYNALITE_PATH/, 'DynamoDB emulator (dynalite child)'],
  [/trainer-process-entry/, 'trainer process'],
  [/upload-child/, 'uploader (running)'],
];

/** utime + stime of a /proc stat line, in ms. */
function statMs(path: string): number {
  const stat = readFileSync(path, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** CPU ms so far per kind of thread of this process and per kind of child process. */
export function cpuSnapshot(): CpuSnapshot | undefined {
  try {
    const totals: CpuSnapshot = new Map();
    const add = (kind: string, ms: number) => totals.set(kind, (totals.get(kind) ?? 0) + ms);
    // The whole process, threads that have ended included (libvips starts and ends its own as it needs them).
    add(PROCESS, statMs('/proc/self/stat'));
    const children: string[] = [];
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
        add(THREAD_KINDS.find(([re]) => re.test(name))?.[1] ?? `stack: other threads`, statMs(`/proc/self/task/${tid}/stat`));
        const kids = readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim();
        if (kids) children.push(...kids.split(/\s+/));
      } catch {
        // the thread ended while being read
      }
    }
    for (const pid of children) {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        add(CHILD_KINDS.find(([re]) => re.test(cmdline))?.[1] ?? 'other child processes', statMs(`/proc/${pid}/stat`));
      } catch {
        // the child ended while being read
      }
    }
    return totals;
  } catch {
    return undefined;
  }
}

/** CPU ms per kind between two snapshots (kinds that used none are left out). */
export function cpuSince(before: CpuSnapshot | undefined, after: CpuSnapshot | undefined): Record<string, number> | undefined {
  if (!before || !after) return undefined;
  const out: Record<string, number> = {};
  let threads = 0;
  for (const [kind, ms] of after) {
    if (kind === PROCESS) continue;
    const d = ms - (before.get(kind) ?? 0);
    if (kind.startsWith('stack: ')) threads += d;
    if (d > 0) out[kind] = d;
  }
  // Threads that ended take their time out of their kind's sum; the process's own total still has it.
  const ended = (after.get(PROCESS) ?? 0) - (before.get(PROCESS) ?? 0) - threads;
  if (ended > 0) out[ENDED] = ended;
  return out;
}
