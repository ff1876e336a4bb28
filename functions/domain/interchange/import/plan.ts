// Planning an import as a whole before anything is written: every item is matched to a project image and checked,
// duplicates across items are found, and the samples' current heads say what each write would do (label, keep an
// existing label, nothing to change). The plan is all or nothing: one failed row and nothing is written.

import { mapBounded } from '../../concurrency.js';
import type { Project, Sample } from '../../model.js';
import type { Stores } from '../../ports.js';
import type { ImportItem, ImportReportRow } from '../model.js';
import { checkItem, type ImportMode, type PlannedWrite } from './check.js';
import { ProjectImages, type ImageMatch } from './match.js';
import { sameLabel, sameProposals } from './same.js';

export interface PlanOptions {
  mode: ImportMode;
  overwrite?: boolean;
}

/** What a planned write will do, given the sample as it is now. */
export type WriteIntent = 'write' | 'keep' | 'unchanged';

export interface PlannedStep extends PlannedWrite {
  /** The item's report row (its action is filled in from the steps). */
  row: ImportReportRow;
  head: Sample;
  intent: WriteIntent;
  /** What this step does, for the report. */
  phrase?: string;
}

export interface ImportPlan {
  ok: boolean;
  rows: ImportReportRow[];
  steps: PlannedStep[];
}

const CONCURRENCY = 8;

export async function planImport(stores: Stores, project: Project, items: ImportItem[], opts: PlanOptions): Promise<ImportPlan> {
  const images = new ProjectImages(stores, project.id);
  const matches = await mapBounded(items, CONCURRENCY, (item) => images.match(item.file, item.extensionUnknown));
  markDuplicates(items, matches);
  const boxSamples = await boxSamplesOf(stores, project, items, matches);

  const rows: ImportReportRow[] = [];
  const planned: { row: ImportReportRow; write: PlannedWrite }[] = [];
  items.forEach((item, i) => {
    const match = matches[i];
    const imageId = 'found' in match ? match.found.imageId : undefined;
    const checked = checkItem(item, { project, mode: opts.mode, match, boxSamples: imageId ? boxSamples.get(imageId) : undefined });
    rows.push(checked.row, ...checked.boxRows);
    for (const write of checked.writes) planned.push({ row: checked.row, write });
  });
  const ok = rows.every((r) => r.ok);
  if (!ok) return { ok, rows, steps: [] };

  const heads = new Map((await stores.samples.getSamples(project.id, planned.map((p) => p.write.sampleId))).map((s) => [s.sampleId, s]));
  const steps: PlannedStep[] = [];
  for (const { row, write } of planned) {
    const head = heads.get(write.sampleId);
    if (!head) {
      Object.assign(row, { ok: false, code: 'not_ingested', problem: `sample ${write.sampleId} does not exist yet: wait for ingest and run the import again` });
      continue;
    }
    steps.push({ ...write, row, head, intent: intentFor(write, head, opts) });
  }
  for (const step of steps) describeStep(step, opts);
  fillActions(steps);
  return { ok: rows.every((r) => r.ok), rows, steps };
}

function intentFor(write: PlannedWrite, head: Sample, opts: PlanOptions): WriteIntent {
  if (write.proposals) return sameProposals(head.proposals, write.proposals) ? 'unchanged' : 'write';
  if (!head.label) return 'write';
  if (write.label && sameLabel(head.label, write.label)) return 'unchanged';
  return opts.overwrite ? 'write' : 'keep';
}

/** What one step does, in words; `override` replaces it when applying found something else. */
export function describeStep(step: PlannedStep, opts: PlanOptions, override?: string): void {
  const labeled = step.head.label ? ` (replacing the label by ${step.head.label.labelerId}; history kept)` : '';
  const phrase =
    override ??
    (step.intent === 'unchanged'
      ? `unchanged: already ${step.proposals ? 'has these proposals' : 'has this label'}`
      : step.intent === 'keep'
        ? `kept the existing label by ${step.head.label?.labelerId} (overwrite to replace)`
        : step.proposals
          ? `proposals: ${step.what}`
          : `label: ${step.what}${opts.overwrite ? labeled : ''}`);
  step.phrase = step.head.kind === 'box' ? `box sample ${step.sampleId}: ${phrase}` : phrase;
}

/** Each item row's action: the phrases of its steps (image label first, then box samples). */
export function fillActions(steps: PlannedStep[]): void {
  const byRow = new Map<ImportReportRow, string[]>();
  for (const step of steps) byRow.set(step.row, [...(byRow.get(step.row) ?? []), step.phrase ?? '']);
  for (const [row, phrases] of byRow) row.action = phrases.join('; ');
}

/** The same image twice in the annotations (by name, or two names that find the same image) is refused. */
function markDuplicates(items: ImportItem[], matches: ImageMatch[]): void {
  const byImage = new Map<string, number>();
  const byName = new Map<string, number>();
  items.forEach((item, i) => {
    const match = matches[i];
    const name = `${item.extensionUnknown ? '?' : ''}${item.file}`;
    const image = 'found' in match ? match.found.imageId : undefined;
    const first = byName.get(name) ?? (image ? byImage.get(image) : undefined);
    if (first !== undefined) {
      const same = items[first].file === item.file ? `same file as ${items[first].source}` : `"${item.file}" and "${items[first].file}" (${items[first].source}) are the same image`;
      matches[i] = { problem: 'duplicate', why: `${same}: give each image once`, ...('file' in match && match.file ? { file: match.file } : {}) };
      return;
    }
    byName.set(name, i);
    if (image) byImage.set(image, i);
  });
}

/** Box samples per image, read only when boxes are imported into a project that labels box samples. */
async function boxSamplesOf(stores: Stores, project: Project, items: ImportItem[], matches: ImageMatch[]): Promise<Map<string, Sample[]>> {
  const byImage = new Map<string, Sample[]>();
  const wanted = new Set(items.flatMap((item, i) => (item.boxes.length && 'found' in matches[i] ? [matches[i].found.imageId] : [])));
  if (project.taskType === 'box-review' || wanted.size === 0) return byImage;
  let cursor: string | undefined;
  do {
    const page = await stores.samples.listSamples(project.id, { cursor, limit: 1000 });
    for (const s of page.items) {
      if (s.kind === 'box' && wanted.has(s.imageId)) byImage.set(s.imageId, [...(byImage.get(s.imageId) ?? []), s]);
    }
    cursor = page.cursor;
  } while (cursor);
  return byImage;
}
