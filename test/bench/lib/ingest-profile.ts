// Where the stack's main thread spent the ingest run, from a V8 CPU profile: self time grouped by component, with
// the vision and ingest code apart from the rest of Winnow (the generic summary lumps them together).

import type { CpuProfile } from './profile-summary.js';

const COMPONENTS: [string, RegExp][] = [
  ['AWS SDK client (serde, middleware, signing)', /@smithy|@aws-sdk/],
  ['s3rver (S3 emulator)', /s3rver|koa|graceful-fs|xmlbuilder|fast-xml-parser|busboy/],
  ['dynalite (DynamoDB emulator)', /dynalite|abstract-level|classic-level/],
  ['sharp (JS side)', /node_modules\/sharp/],
  ['vision: tensors, YOLOX decode', /functions\/vision/],
  ['ingest + embeddings sink', /functions\/(ingest|domain\/ingest|local\/(pipeline|ingest-queue))/],
  ['hono + API', /hono|zod|functions\/api/],
  ['other Winnow code', /functions\//],
  ['bench bookkeeping', /test\/bench/],
];

const SPECIAL = new Map([
  ['(garbage collector)', 'garbage collection'],
  ['(idle)', 'idle'],
  ['(program)', 'V8 (program)'],
]);

export interface ProfileShare {
  component: string;
  ms: number;
  share: number;
}

/** Self time per component (native and Node-internal frames charged to their nearest JS caller). */
export function ingestProfileSummary(profile: CpuProfile): ProfileShare[] {
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
      COMPONENTS.find(([, re]) => re.test(frame.url))?.[0] ??
      (parent.has(id) ? componentOf(parent.get(id)!) : 'Node internals (sockets, timers, fs)');
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
