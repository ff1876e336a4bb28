// Where a phase's allocations come from: V8's sampling heap profiler with the objects young and old collections
// freed kept in the profile (garbage is what makes scavenges; a profile of survivors alone would miss it), summed by
// component and by allocating function. Written as a .heapprofile for Chrome DevTools.

import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { componentOfUrl } from './profile-summary.js';

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

export interface HeapProfile {
  head: HeapNode;
}

export interface AllocationSummary {
  totalMiB: number;
  byComponent: { component: string; mib: number; share: number }[];
  topFunctions: { fn: string; component: string; mib: number; share: number }[];
}

export async function startHeapProfile(): Promise<{ stop(file: string): Promise<HeapProfile> }> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 16 * 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  } as never);
  return {
    stop: async (file) => {
      const { profile } = await session.post('HeapProfiler.stopSampling');
      session.disconnect();
      await writeFile(file, JSON.stringify(profile));
      return profile as unknown as HeapProfile;
    },
  };
}

/** Bytes sampled per component (the nearest caller with a known component) and per allocating function. */
export function summarizeAllocations(profile: HeapProfile, top = 15): AllocationSummary {
  const byComponent = new Map<string, number>();
  const byFunction = new Map<string, { component: string; bytes: number }>();
  let total = 0;
  const walk = (node: HeapNode, inherited: string) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const component = componentOfUrl(url) ?? inherited;
    if (node.selfSize > 0) {
      total += node.selfSize;
      byComponent.set(component, (byComponent.get(component) ?? 0) + node.selfSize);
      const fn = `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
      const entry = byFunction.get(fn) ?? { component, bytes: 0 };
      entry.bytes += node.selfSize;
      byFunction.set(fn, entry);
    }
    for (const child of node.children) walk(child, component);
  };
  walk(profile.head, 'Node internals (sockets, timers)');
  const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
  const share = (bytes: number) => Math.round((1000 * bytes) / Math.max(1, total)) / 10;
  return {
    totalMiB: mib(total),
    byComponent: [...byComponent].map(([component, bytes]) => ({ component, mib: mib(bytes), share: share(bytes) })).sort((a, b) => b.mib - a.mib),
    topFunctions: [...byFunction]
      .sort((a, b) => b[1].bytes - a[1].bytes)
      .slice(0, top)
      .map(([fn, e]) => ({ fn, component: e.component, mib: mib(e.bytes), share: share(e.bytes) })),
  };
}

const shortUrl = (url: string) => url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(functions|test)\//, '$1/');
