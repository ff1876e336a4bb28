// Importing existing labels (COCO, VOC, YOLO, origin CSV, parsed at the edge into ImportItems) into a project, as
// labels or as box proposals to review. Plans everything first; writes only when every row is clean and this is
// not a dry run. The report names every row: what is wrong with it, or what was (or would be) done.

import { badRequest } from '../../errors.js';
import type { Stores } from '../../ports.js';
import { getProject } from '../../projects.js';
import type { ImportItem, ImportReportRow } from '../model.js';
import { applyPlan } from './apply.js';
import type { ImportMode } from './check.js';
import { planImport, type PlannedStep } from './plan.js';

export interface ImportLabelsInput {
  projectId: string;
  mode: ImportMode;
  /** Replace existing labels (a new annotation on top: the history keeps the old one). Default: keep them. */
  overwrite?: boolean;
  /** Check and report only. */
  dryRun?: boolean;
  items: ImportItem[];
  /** Who imports: the labels are written in their name. */
  labelerId: string;
}

export interface ImportSummary {
  items: number;
  boxes: number;
  /** Labels written (or, in a dry run, that would be). */
  labels: number;
  proposals: number;
  /** Samples whose existing label was kept (no overwrite, or labeled by someone during the import). */
  kept: number;
  /** Samples that already had exactly this label or these proposals. */
  unchanged: number;
  /** Rows with a problem. */
  failed: number;
}

export interface ImportReport {
  ok: boolean;
  applied: boolean;
  dryRun: boolean;
  mode: ImportMode;
  summary: ImportSummary;
  rows: ImportReportRow[];
}

export async function importLabels(stores: Stores, input: ImportLabelsInput): Promise<{ report: ImportReport; labeledSampleIds: string[] }> {
  const project = await getProject(stores, input.projectId);
  if (input.items.length === 0) throw badRequest('no items to import', { field: 'items' });
  const opts = { mode: input.mode, overwrite: input.overwrite };
  const plan = await planImport(stores, project, input.items, opts);
  const dryRun = input.dryRun ?? false;
  let labeledSampleIds: string[] = [];
  if (plan.ok && !dryRun) labeledSampleIds = (await applyPlan(stores, project, plan.steps, input.labelerId, opts)).labeledSampleIds;
  const report: ImportReport = {
    ok: plan.ok,
    applied: plan.ok && !dryRun,
    dryRun,
    mode: input.mode,
    summary: summarize(input.items, plan.rows, plan.steps),
    rows: plan.rows,
  };
  return { report, labeledSampleIds };
}

function summarize(items: ImportItem[], rows: ImportReportRow[], steps: PlannedStep[]): ImportSummary {
  const count = (test: (s: PlannedStep) => boolean) => steps.filter(test).length;
  return {
    items: items.length,
    boxes: items.reduce((n, i) => n + i.boxes.length, 0),
    labels: count((s) => s.intent === 'write' && !!s.label),
    proposals: count((s) => s.intent === 'write' && !!s.proposals),
    kept: count((s) => s.intent === 'keep'),
    unchanged: count((s) => s.intent === 'unchanged'),
    failed: rows.filter((r) => !r.ok).length,
  };
}

/** One sentence for a report that failed, naming the first failed row. */
export function failureMessage(report: ImportReport): string {
  const first = report.rows.find((r) => !r.ok);
  const rows = report.summary.failed === 1 ? '1 row has a problem' : `${report.summary.failed} rows have problems`;
  return `${rows}; nothing was imported${first ? `. First: ${first.source}${first.file ? ` (${first.file})` : ''}: ${first.problem}` : ''}`;
}
