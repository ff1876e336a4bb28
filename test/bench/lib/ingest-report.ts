// The ingest bench's printed report: one markdown table per concern, modes side by side.

import type { ColdStart } from './cold-start.js';
import type { FloorLayout, FloorResult } from './inference-floor.js';
import type { Rate } from './ingest-baselines.js';
import type { IngestRunResult } from './ingest-run.js';
import { markdownTable } from './markdown-table.js';
import type { StageTotal } from './stage-times.js';

export interface RunnerDelta {
  runs: number;
  items: number;
  busyMs: number;
}

export interface ModeReport {
  mode: string;
  detect: boolean;
  images: number;
  run: IngestRunResult;
  stages: Record<string, StageTotal>;
  embedRuns: RunnerDelta;
  detectRuns: RunnerDelta;
  /** The faster of the measured layouts (see inference-floor.ts), with each layout's own figures. */
  floor: FloorResult & { layouts?: FloorLayout[] };
  /** Winnow's analyzer on the same images with no storage, right after the end-to-end run. */
  analyzerAlone: Rate & { mainThread?: IngestRunResult['mainThread']; cpuByKind?: Record<string, number> };
  /** Its two runs: right before and right after the end-to-end run. */
  analyzerAloneRuns?: Rate[];
  /** This process's peak RSS after this mode (it never decreases). */
  peakRssMiB: number;
}

export interface IngestBenchResult {
  dataset: string;
  images: number;
  machine: { cpus: number; cpuModel?: string; node: string; sharpThreads: number };
  settings: { ingestConcurrency: number; uploadConcurrency: number; warmImages: number; withTrainer: boolean };
  modes: ModeReport[];
  /** Decode, resize and embed in a plain loop (no thumbnail, no storage). */
  plainScript: Rate;
  /** Load averages (1, 5, 15 min) at the start and the end of the run. */
  load?: { start: number[]; end: number[] };
  coldStarts: Partial<Record<string, ColdStart>>;
  memory: {
    stackProcessPeakRssMiB: number;
    workerPeakRssMiB: number;
    headroom: number;
    lambdaMemoryMb: number;
    lambdaMemoryMbFromStackProcess: number;
    lambdaMemoryMbForSameCpus: number;
  };
}

const fixed = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
/** ms per image, and the images/s that cost alone would allow. */
const perImage = (ms: number, images: number) => (ms > 0 ? `${fixed(ms / images, 2)} ms (${fixed((1000 * images) / ms, 0)}/s)` : '-');
const title = (m: ModeReport) => (m.detect ? 'embed + detect' : 'embed only');

function sumStages(stages: Record<string, StageTotal>, prefix: string): number {
  return Object.entries(stages).reduce((ms, [name, t]) => (name.startsWith(prefix) ? ms + t.ms : ms), 0);
}

/** The headline figures of one mode (also written to the JSON as `summary`). */
export function stageFigures(m: ModeReport, cold?: ColdStart) {
  const s = (name: string) => m.stages[name]?.ms ?? 0;
  const perImage = (ms: number) => ms / m.images;
  const floorPerSecond = (1000 * m.images) / m.floor.totalMs;
  const endToEndPerSecond = (1000 * m.images) / m.run.endToEndMs;
  return {
    endToEndPerSecond,
    analyzerAlonePerSecondSameRun: m.analyzerAlone.perSecond,
    /** The target: >= 0.7. */
    endToEndOverAnalyzerAlone: endToEndPerSecond / m.analyzerAlone.perSecond,
    floorPerSecond,
    ratio: m.run.endToEndMs / m.floor.totalMs,
    /** The analyzer alone in its own process (no storage, no emulators), against the same floor. */
    analyzerAlonePerSecond: cold?.warmImagesPerSecond,
    analyzerAloneRatio: cold && cold.warmImages > 0 ? floorPerSecond / cold.warmImagesPerSecond : undefined,
    msPerImage: {
      decodeResize: perImage(s('analyze.decode') + s('analyze.tensor') + s('analyze.copies')),
      decode: perImage(s('analyze.decode')),
      tensors: perImage(s('analyze.tensor')),
      webpCopies: perImage(s('analyze.copies')),
      embedSession: perImage(m.embedRuns.busyMs),
      embedWithWait: perImage(s('analyze.embed')),
      detectSession: perImage(m.detectRuns.busyMs),
      detectWithWaitAndDecode: perImage(s('analyze.detect')),
      store: perImage(sumStages(m.stages, 'store.')),
      floor: perImage(m.floor.totalMs),
      endToEnd: perImage(m.run.endToEndMs),
    },
  };
}

export function formatIngestReport(r: IngestBenchResult): string {
  const modes = r.modes;
  const row = (label: string, f: (m: ModeReport) => string | number) => [label, ...modes.map(f)];
  const s = (m: ModeReport, name: string) => m.stages[name]?.ms ?? 0;
  const main = markdownTable(
    ['figure', ...modes.map(title)],
    [
      row('images ready / failed', (m) => `${m.run.ready} / ${m.run.failed}`),
      row('box samples (detections, crop-embedded)', (m) => m.embedRuns.items - m.run.ready - m.run.failed),
      row('END TO END images/s', (m) => fixed(stageFigures(m).endToEndPerSecond)),
      row('ANALYZER ALONE images/s (same images, no storage)', (m) => fixed(m.analyzerAlone.perSecond)),
      row('  its runs right before / right after end to end', (m) => (m.analyzerAloneRuns ?? []).map((r) => fixed(r.perSecond)).join(' / ') || '-'),
      row('END TO END / ANALYZER ALONE (target >= 0.7x)', (m) => `${fixed(stageFigures(m).endToEndOverAnalyzerAlone, 2)}x`),
      row(`PLAIN SCRIPT images/s (sharp + onnxruntime loop, ${r.plainScript.images} images, embed only)`, () => fixed(r.plainScript.perSecond)),
      row('  end to end / plain script', (m) => `${fixed(stageFigures(m).endToEndPerSecond / r.plainScript.perSecond, 2)}x`),
      row('storage requests per image: S3 / DynamoDB', (m) => {
        const sum = (prefix: string) => Object.entries(m.run.requests).reduce((n, [k, v]) => (k.startsWith(prefix) ? n + v : n), 0);
        return `${fixed(sum('s3.') / m.images, 2)} / ${fixed(sum('dynamodb.') / m.images, 2)}`;
      }),
      row('  by operation, per image', (m) => Object.entries(m.run.requests).map(([k, v]) => `${k.replace(/^\w+\./, '')} ${fixed(v / m.images, 2)}`).join(', ')),
      row('  S3 writes by object, batch-written items, per image', (m) =>
        Object.entries(m.run.requestDetail ?? {}).map(([k, v]) => `${k.replace(/^PutObject /, '')} ${fixed(v / m.images, 2)}`).join(', '),
      ),
      row('  wall time, s (uploads done at)', (m) => `${fixed(m.run.endToEndMs / 1000)} (${fixed(m.run.uploadMs / 1000)})`),
      row('  CPU cores busy: stack process + emulator children', (m) => `${fixed(m.run.cpuCores, 2)} + ${fixed(m.run.childCpuCores ?? NaN, 2)}`),
      row('  CPU ms per image (stack process + emulators)', (m) => fixed(((m.run.cpuCores + (m.run.childCpuCores ?? 0)) * m.run.endToEndMs) / m.images)),
      row('  CPU ms per image, analyzer alone', (m) => fixed(m.analyzerAlone.cpuMsPerImage ?? NaN)),
      row('  JS main thread busy / ingest thread busy', (m) => `${fixed(100 * m.run.eventLoopUtilization, 0)}% / ${m.run.ingestThreadUtilization === undefined ? 'in main' : `${fixed(100 * m.run.ingestThreadUtilization, 0)}%`}`),
      row('decode+resize, per image', (m) => perImage(stageFigures(m).msPerImage.decodeResize * m.images, m.images)),
      row('  decode to working pixels', (m) => perImage(s(m, 'analyze.decode'), m.images)),
      row('  model tensors (224, 416, crops)', (m) => perImage(s(m, 'analyze.tensor'), m.images)),
      row('  WebP thumbnail + display copy', (m) => perImage(s(m, 'analyze.copies'), m.images)),
      row('embed, session.run per image', (m) => perImage(m.embedRuns.busyMs, m.images)),
      row('  incl. wait for the session', (m) => perImage(s(m, 'analyze.embed'), m.images)),
      row('  items per ONNX run', (m) => fixed(m.embedRuns.items / Math.max(1, m.embedRuns.runs), 2)),
      row('detect, session.run per image', (m) => perImage(m.detectRuns.busyMs, m.images)),
      row('  incl. wait + YOLOX decode/NMS', (m) => perImage(s(m, 'analyze.detect'), m.images)),
      row('store (S3 + DynamoDB calls), per image', (m) => perImage(sumStages(m.stages, 'store.'), m.images)),
      row('  S3 (read original, write copies + shard)', (m) => perImage(sumStages(m.stages, 'store.s3.'), m.images)),
      row('  DynamoDB (image + sample records)', (m) => perImage(sumStages(m.stages, 'store.dynamodb.'), m.images)),
      row('FLOOR images/s (pure inference, faster layout below)', (m) => fixed(stageFigures(m).floorPerSecond)),
      ...[0, 1].map((i) =>
        row(`  floor s, ${modes[0]?.floor.layouts?.[i]?.label ?? '-'}: embed (batch) + detect`, (m) => {
          const f = m.floor.layouts?.[i];
          if (!f) return '-';
          return `${fixed(f.totalMs / 1000, 2)}: ${fixed(f.embedMs / 1000, 2)} (${f.embedBatch}) ${f.parallel ? 'alongside' : '+'} ${fixed(f.detectMs / 1000, 2)}`;
        }),
      ),
      row('  floor as plain sum of run times, s', (m) => fixed(m.floor.rawMs / 1000, 2)),
      row('end to end / floor (pure inference; was the target before decoding counted)', (m) => `${fixed(stageFigures(m).ratio, 2)}x`),
      row('worker alone in a fresh process (cold start below): images/s', (m) => {
        const f = stageFigures(m, r.coldStarts[m.mode]);
        return f.analyzerAloneRatio === undefined ? '-' : `${fixed(f.analyzerAlonePerSecond!)} (${fixed(f.analyzerAloneRatio, 2)}x floor)`;
      }),
      row('peak RSS of the stack process so far, MiB', (m) => fixed(m.peakRssMiB, 0)),
    ],
  );
  const colds = Object.values(r.coldStarts).filter((c): c is ColdStart => c !== undefined);
  const cold = markdownTable(
    ['cold start (fresh bundled process)', ...colds.map((c) => (c.detect ? 'embed + detect' : 'embed only'))],
    [
      ['SPAWN TO FIRST RESULT, ms', ...colds.map((c) => fixed(c.firstResultMs, 0))],
      ['  Node boot + module loading, ms', ...colds.map((c) => fixed(c.importedMs, 0))],
      ['  analyzer: sha256 check + ONNX sessions, ms', ...colds.map((c) => fixed(c.analyzerMs, 0))],
      ['  first analysis, ms', ...colds.map((c) => fixed(c.firstAnalyzeMs, 0))],
      ['worker alone, next images: images/s', ...colds.map((c) => `${fixed(c.warmImagesPerSecond)} (${c.warmImages})`)],
      ['worker alone, peak RSS MiB', ...colds.map((c) => fixed(c.peakRssMiB, 0))],
    ],
  );
  const mem = r.memory;
  const memory = markdownTable(
    ['memory', 'MiB / MB'],
    [
      ['peak RSS, ingest worker alone (as in the Lambda)', fixed(mem.workerPeakRssMiB, 0)],
      [`LAMBDA MEMORY implied (+${mem.headroom * 100}% headroom, 128 MB steps)`, mem.lambdaMemoryMb],
      ['peak RSS, whole stack process (emulators, API, bench)', fixed(mem.stackProcessPeakRssMiB, 0)],
      ['  Lambda memory if sized from that', mem.lambdaMemoryMbFromStackProcess],
      [`Lambda memory for ${r.machine.cpus} vCPUs like this machine (1769 MB per vCPU)`, mem.lambdaMemoryMbForSameCpus],
    ],
  );
  const head =
    `Ingest benchmark: ${r.images} images from ${r.dataset}\n` +
    `${r.machine.cpus} x ${r.machine.cpuModel ?? 'CPU'}, Node ${r.machine.node}, sharp threads ${r.machine.sharpThreads}, ` +
    `ingest concurrency ${r.settings.ingestConcurrency}, upload concurrency ${r.settings.uploadConcurrency}, ` +
    `trainer ${r.settings.withTrainer ? 'running alongside' : 'held back (its own Lambda in the cloud)'}\n` +
    (r.load ? `load average (1/5/15 min) at start ${r.load.start.map((l) => l.toFixed(2)).join(' ')}, at end ${r.load.end.map((l) => l.toFixed(2)).join(' ')}\n` : '') +
    'Per-stage figures are summed wall time of each call divided by the images (calls overlap, so they add up to\n' +
    'more than the end-to-end time); "(n/s)" is the rate that stage alone would allow.';
  return [head, main, ...cpuTable(modes), ...mainThreadTable(modes), ...(colds.length ? [cold, memory] : [])].join('\n\n');
}

/** Where the main thread's time went, per mode, end to end and in the analyzer alone, when the run was profiled. */
function mainThreadTable(modes: ModeReport[]): string[] {
  const columns = modes.flatMap((m) => [
    ...(m.run.mainThread ? [{ label: `${title(m)}: end to end`, m, shares: m.run.mainThread }] : []),
    ...(m.analyzerAlone.mainThread ? [{ label: `${title(m)}: analyzer alone`, m, shares: m.analyzerAlone.mainThread }] : []),
  ]);
  if (columns.length === 0) return [];
  const components = [...new Set(columns.flatMap((c) => c.shares.map((s) => s.component)))];
  const cell = (col: (typeof columns)[number], component: string) => {
    const c = col.shares.find((x) => x.component === component);
    return c ? `${fixed(c.ms / col.m.images, 2)} (${fixed(c.share, 0)}%)` : '-';
  };
  const total = (col: (typeof columns)[number]) => fixed(col.shares.reduce((ms, s) => ms + s.ms, 0) / col.m.images, 2);
  return [
    markdownTable(
      ['main thread, ms per image (share)', ...columns.map((c) => c.label)],
      [['all (wall time sampled: includes waits for the CPU)', ...columns.map(total)], ...components.map((component) => [component, ...columns.map((c) => cell(c, component))])],
    ),
  ];
}

/** CPU ms per image by process and thread, end to end (the uploader included) against the analyzer alone (its second run). */
function cpuTable(modes: ModeReport[]): string[] {
  const columns = modes.flatMap((m) => [
    ...(m.run.cpuByKind ? [{ label: `${title(m)}: end to end`, m, kinds: m.run.cpuByKind }] : []),
    ...(m.analyzerAlone.cpuByKind ? [{ label: `${title(m)}: analyzer alone`, m, kinds: m.analyzerAlone.cpuByKind }] : []),
  ]);
  if (columns.length === 0) return [];
  const kinds = [...new Set(columns.flatMap((c) => Object.keys(c.kinds)))].sort();
  const cell = (ms: number | undefined, images: number) => (ms === undefined ? '-' : fixed(ms / images, 2));
  const sum = (kinds: Record<string, number>) => Object.values(kinds).reduce((a, b) => a + b, 0);
  return [
    markdownTable(
      ['CPU ms per image, by process / thread (/proc)', ...columns.map((c) => c.label)],
      [
        ['ALL (every process on the path)', ...columns.map((c) => cell(sum(c.kinds), c.m.images))],
        ...kinds.map((k) => [k, ...columns.map((c) => cell(c.kinds[k], c.m.images))]),
      ],
    ),
  ];
}
