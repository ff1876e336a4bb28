// Where a thread's time went, from a V8 .cpuprofile: self time grouped by component (AWS SDK, emulators, API,
// training, ...). Time in Node internals and native code is charged to the nearest JavaScript caller's component.

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const COMPONENTS: [string, RegExp][] = [
  ['AWS SDK client (serde, middleware, signing)', /@smithy|@aws-sdk/],
  ['dynalite + LevelDB (DynamoDB emulator)', /dynalite|abstract-level|classic-level|buffer-crc32|big\.js|\/lazy\/|\/async\/dist/],
  ['s3rver (S3 emulator)', /s3rver|koa|graceful-fs/],
  ['autocannon (load generator)', /autocannon|hdr-histogram|hyperid|http-parser-js|retimer|reinterval/],
  ['hono + zod (API framework)', /hono|zod/],
  ['training', /functions\/domain\/learning|functions\/trainer|functions\/domain\/retrain|adapters\/embeddings|^wasm:/],
  ['Winnow API and domain code', /functions\//],
  ['bench bookkeeping', /test\/bench/],
];

const SPECIAL = new Map([
  ['(garbage collector)', 'garbage collection'],
  ['(idle)', 'idle'],
  ['(program)', 'V8 (program)'],
]);

/** The component a script URL belongs to, or undefined for Node internals and native code. */
export function componentOfUrl(url: string): string | undefined {
  return COMPONENTS.find(([, re]) => re.test(url))?.[0];
}

export function summarizeProfile(profile: CpuProfile): { component: string; ms: number; share: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map<number, string>();
  const componentOf = (id: number): string => {
    const known = memo.get(id);
    if (known) return known;
    const frame = byId.get(id)!.callFrame;
    const component =
      SPECIAL.get(frame.functionName) ??
      componentOfUrl(frame.url) ??
      (parent.has(id) ? componentOf(parent.get(id)!) : 'Node internals (sockets, timers)');
    memo.set(id, component);
    return component;
  };
  const totals = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const component = componentOf(id);
    const us = profile.timeDeltas[i] ?? 0;
    totals.set(component, (totals.get(component) ?? 0) + us);
    if (component !== 'idle') busy += us;
  });
  return [...totals]
    .filter(([component]) => component !== 'idle')
    .map(([component, us]) => ({ component, ms: Math.round(us / 1000), share: Math.round((1000 * us) / busy) / 10 }))
    .sort((a, b) => b.ms - a.ms);
}
