// A child process's CPU profile (node --cpu-prof, written at its exit) cut to a window of the bench (the measured
// phase, not seeding), and its self time by function. V8 stamps samples with the monotonic clock that
// process.hrtime reads, so the window is taken with process.hrtime in the bench's own process.

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CpuProfile } from './profile-summary.js';

interface TimedProfile extends CpuProfile {
  startTime: number;
  nodes: (CpuProfile['nodes'][number] & { callFrame: { functionName: string; url: string; lineNumber?: number } })[];
}

/** Now, in the microseconds of a .cpuprofile's timestamps. */
export const profileClockUs = () => Number(process.hrtime.bigint() / 1000n);

/** The .cpuprofile files in `dir`, read. */
export async function readProfiles(dir: string): Promise<TimedProfile[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.cpuprofile'));
  return Promise.all(names.map(async (n) => JSON.parse(await readFile(path.join(dir, n), 'utf8')) as TimedProfile));
}

/** The profile's samples taken between `fromUs` and `toUs` (profileClockUs), and the ms of CPU they stand for. */
export function windowed(profile: TimedProfile, fromUs: number, toUs: number): { profile: CpuProfile; busyMs: number } {
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  let t = profile.startTime;
  let busyUs = 0;
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t < fromUs || t > toUs) return;
    samples.push(id);
    timeDeltas.push(delta);
    if (!idle.has(id)) busyUs += delta;
  });
  return { profile: { nodes: profile.nodes, samples, timeDeltas }, busyMs: busyUs / 1000 };
}

/** Self time by function (name and file), the `top` largest, idle left out. */
export function topSelf(profile: CpuProfile, top = 15): { fn: string; ms: number; share: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)!.callFrame as { functionName: string; url: string; lineNumber?: number };
    if (frame.functionName === '(idle)') return;
    const us = profile.timeDeltas[i] ?? 0;
    busy += us;
    const file = frame.url ? frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(?=[^/]+$)/, '') : '';
    const key = `${frame.functionName || '(anonymous)'}${file ? ` ${file}:${(frame.lineNumber ?? 0) + 1}` : ''}`;
    totals.set(key, (totals.get(key) ?? 0) + us);
  });
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, us]) => ({ fn, ms: Math.round(us / 100) / 10, share: Math.round((1000 * us) / Math.max(1, busy)) / 10 }));
}
