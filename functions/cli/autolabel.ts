// `winnow autolabel`: label every remaining image the model is sure about at a promised precision (one batch), show
// what it would do (--dry-run), or undo a batch (--undo BATCH). See functions/domain/autolabel.ts for the guarantee.

import { parseArgs } from 'node:util';
import { DEFAULT_AUTOLABEL_PRECISION, MAX_PRECISION, MIN_PRECISION } from '../domain/autolabel.js';
import { api, localTarget, type Target } from './stack-client.js';
import type { Print } from './print.js';
import type { CliConfig } from '../local/config.js';

export const AUTOLABEL_USAGE = `  autolabel --project ID [--precision ${DEFAULT_AUTOLABEL_PRECISION}] [--dry-run] [--undo BATCH] [--data DIR]
      Label every unlabeled image the model is sure about so that at least --precision of those labels are right
      (${MIN_PRECISION} to ${MAX_PRECISION}; guaranteed with 95% confidence from the model's held-out predictions on your labels).
      They are stored as model labels (never trained on, exported only with --include-model-labels). Prints the
      batch id, how many were labeled and the estimated precision with its interval. --dry-run: only say what it
      would do. --undo BATCH: take that whole batch back (labels someone changed since are kept).`;

interface Reply {
  message?: string;
  [key: string]: unknown;
}

export async function autolabelCommand(args: string[], cli: Pick<CliConfig, 'dataDir'>, log: Print = console.log): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      project: { type: 'string' },
      precision: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      undo: { type: 'string' },
      data: { type: 'string' },
    },
  });
  if (!values.project) throw new Error(`usage:\n${AUTOLABEL_USAGE}`);
  const precision = values.precision === undefined ? DEFAULT_AUTOLABEL_PRECISION : Number(values.precision);
  if (!Number.isFinite(precision) || precision < MIN_PRECISION || precision > MAX_PRECISION) {
    throw new Error(`--precision must be a number from ${MIN_PRECISION} to ${MAX_PRECISION} (e.g. 0.98), got "${values.precision}"`);
  }
  const target = await localTarget(values.data ?? cli.dataDir);
  return runAutolabelCommand(target, { project: values.project, precision, dryRun: values['dry-run'], undo: values.undo }, log);
}

export async function runAutolabelCommand(
  target: Target,
  opts: { project: string; precision: number; dryRun?: boolean; undo?: string },
  log: Print,
): Promise<number> {
  const base = `/api/projects/${encodeURIComponent(opts.project)}/autolabel`;
  if (opts.undo) {
    const res = await api<Reply & { restored: number; kept: number }>(target, 'POST', `${base}/${encodeURIComponent(opts.undo)}/undo`);
    if (res.status !== 200) throw new Error(`undo refused (${res.status}): ${res.body?.message ?? 'no reason given'}`);
    log(`batch ${opts.undo} undone: ${res.body.restored} labels removed, ${res.body.kept} kept (changed since)`);
    return 0;
  }
  if (opts.dryRun) {
    const res = await api<{ preview: Reply & Record<string, any>; message?: string }>(target, 'GET', `${base}?precision=${opts.precision}`);
    if (res.status !== 200) throw new Error(`auto-label preview refused (${res.status}): ${res.body?.message ?? 'no reason given'}`);
    const p = res.body.preview;
    if (!p.possible) log(`cannot auto-label at ${pct(opts.precision)} yet: ${p.reason}`);
    else log(`would label ${p.wouldLabel} images at confidence >= ${p.threshold}; ${describe(p)}`);
    return 0;
  }
  const res = await api<Reply & Record<string, any>>(target, 'POST', base, { precision: opts.precision });
  if (res.status !== 200) throw new Error(`auto-label refused (${res.status}): ${res.body?.message ?? 'no reason given'}`);
  const r = res.body;
  log(
    `batch ${r.batchId}: labeled ${r.labeled} images (confidence >= ${r.threshold}${r.skipped ? `, ${r.skipped} skipped: labeled or being labeled` : ''}); ` +
      `${describe(r)}\nundo with: npm run winnow -- autolabel --project ${opts.project} --undo ${r.batchId}`,
  );
  return 0;
}

function describe(r: Record<string, any>): string {
  return (
    `estimated precision ${pct(r.estimatedPrecision)} (95% interval ${pct(r.interval.low)}-${pct(r.interval.high)}; ` +
    `${r.correct}/${r.heldOut} held-out predictions right; promised >= ${pct(r.precision)}, lower bound ${pct(r.lowerBound)})`
  );
}

const pct = (p: number) => `${(p * 100).toFixed(1)}%`;
