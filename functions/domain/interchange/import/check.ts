// Checks one import item against the project and the image it matched, and says what would be written: a report
// row for the item, one per box with something to say, and the planned writes (none when anything is wrong).
//
// Box-review projects keep boxes on the whole-image sample: as its label (`label.boxes`) or as the proposals a
// labeler reviews (`sample.proposals`). Classification projects label whole images by class; a box there can only
// label an existing box sample (made by detection or import-features) at the same place.

import { WinnowError } from '../../errors.js';
import { normalizeLabel, type ValidLabel } from '../../label-validation.js';
import type { BoxLabel, Project, Sample } from '../../model.js';
import type { ImportItem, ImportProblem, ImportReportRow } from '../model.js';
import { checkBox, sameBox } from './boxes.js';
import type { ImageMatch } from './match.js';

export type ImportMode = 'labels' | 'proposals';

export interface PlannedWrite {
  sampleId: string;
  label?: ValidLabel;
  proposals?: BoxLabel[];
  /** What the write puts there, for the report: `13 boxes`, `daisy`. */
  what: string;
}

export interface ItemPlan {
  row: ImportReportRow;
  /** Rows of boxes with a problem, or clamped to the image. */
  boxRows: ImportReportRow[];
  writes: PlannedWrite[];
}

export interface ItemContext {
  project: Project;
  mode: ImportMode;
  match: ImageMatch;
  /** Box samples of the matched image (classification projects with boxes in the item). */
  boxSamples?: Sample[];
}

export function classIndexOf(project: Project, name: string): number {
  const wanted = name.trim().toLowerCase();
  return project.classes.findIndex((c) => c.toLowerCase() === wanted);
}

type Fail = (code: ImportProblem, why: string) => void;

export function checkItem(item: ImportItem, ctx: ItemContext): ItemPlan {
  const { project, mode, match } = ctx;
  const problems: { code: ImportProblem; why: string }[] = [];
  const fail: Fail = (code, why) => problems.push({ code, why });
  const row: ImportReportRow = { source: item.source, file: item.file, ok: true };
  if ('file' in match && match.file) row.image = match.file;
  if (mode === 'proposals' && project.taskType !== 'box-review') {
    fail('wrong_task', `proposals are boxes to review: project "${project.id}" is ${project.taskType}, not box-review`);
  }
  const confidences = imageConfidences(item, project, fail);
  const image = 'found' in match ? match.found : undefined;
  if ('problem' in match) fail(match.problem, match.why);
  if (image) checkSize(item, image.width!, image.height!, fail);
  const boxes = checkBoxes(item, ctx, row, fail);
  const boxFailed = boxes.rows.some((r) => !r.ok);

  let writes: PlannedWrite[] = [];
  if (image && problems.length === 0) writes = [...imageWrites(item, ctx, image.imageId, confidences, boxes.labels, fail), ...boxes.writes];
  if (problems.length) Object.assign(row, { ok: false, code: problems[0].code, problem: problems.map((p) => p.why).join('; ') });
  else if (writes.length === 0 && !boxFailed) row.action = 'nothing labeled on it: left as it is';
  return { row, boxRows: boxes.rows, writes: problems.length || boxFailed ? [] : writes };
}

/** Image-level classes as the project's confidence vector. */
function imageConfidences(item: ImportItem, project: Project, fail: Fail): number[] {
  const confidences = Array<number>(project.classes.length).fill(0);
  const unknown: string[] = [];
  for (const c of item.classes ?? []) {
    const at = classIndexOf(project, c.name);
    if (at < 0) unknown.push(c.name);
    else if (confidences[at] > 0) fail('invalid_label', `class "${c.name}" is given twice`);
    else confidences[at] = c.confidence;
  }
  if (unknown.length) fail('unknown_class', `unknown class${unknown.length > 1 ? 'es' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}: ${classList(project)}`);
  return confidences;
}

const classList = (project: Project) => `the project's classes are ${project.classes.join(', ')}`;

/** The size the annotation states against the upright image ingest measured. */
function checkSize(item: ImportItem, width: number, height: number, fail: Fail): void {
  if (item.width === undefined || item.height === undefined) return;
  if (Math.abs(item.width - width) <= 0.5 && Math.abs(item.height - height) <= 0.5) return;
  const turned = Math.abs(item.width - height) <= 0.5 && Math.abs(item.height - width) <= 0.5;
  fail('size_mismatch', `the annotation says ${item.width} x ${item.height}, the image is ${width} x ${height} upright` +
    (turned ? ' (the annotation was made on the image before its EXIF rotation was applied)' : ': is it the same image?'));
}

/**
 * Each box's class and geometry, and where it goes: onto the image's label or proposals (box-review), or as the
 * label of the box sample at the same place (classification projects).
 */
function checkBoxes(item: ImportItem, ctx: ItemContext, row: ImportReportRow, fail: Fail) {
  const { project, mode } = ctx;
  const image = 'found' in ctx.match ? ctx.match.found : undefined;
  const rows: ImportReportRow[] = [];
  const labels: BoxLabel[] = [];
  const writes: PlannedWrite[] = [];
  for (const b of item.boxes) {
    const boxRow = (code: ImportProblem | undefined, text: string) =>
      rows.push({
        source: `${item.source} ${b.source}`,
        file: item.file,
        ...(row.image ? { image: row.image } : {}),
        ok: !code,
        ...(code ? { code, problem: text } : { action: text }),
      });
    const classIndex = classIndexOf(project, b.class);
    if (classIndex < 0) {
      boxRow('unknown_class', `unknown class "${b.class}": ${classList(project)}`);
      continue;
    }
    if (!image) {
      // Without the image, only what the box says about itself can be checked.
      if (!b.normalized && (b.box[2] < b.box[0] || b.box[3] < b.box[1])) boxRow('empty_box', `box [${b.box.join(', ')}] has no width or height`);
      continue;
    }
    const checked = checkBox(b, image.width!, image.height!);
    if ('dropped' in checked) {
      boxRow(undefined, checked.why);
      continue;
    }
    if ('problem' in checked) {
      boxRow(checked.problem, checked.why);
      continue;
    }
    if (checked.clamped) boxRow(undefined, `clamped to the image edge: [${checked.box.join(', ')}]`);
    if (project.taskType === 'box-review') {
      const proposal = mode === 'proposals';
      labels.push({ box: checked.box, classIndex, source: proposal ? 'model' : 'labeler', ...(proposal && b.score !== undefined ? { score: b.score } : {}) });
      continue;
    }
    if (mode === 'proposals') continue;
    const sample = ctx.boxSamples?.find((s) => s.box && sameBox(s.box, checked.box));
    if (!sample) {
      boxRow('wrong_task', `no box sample at [${checked.box.join(', ')}] in this image: a ${project.taskType} project labels boxes only where detection or import-features made box samples (use a box-review project to import boxes)`);
      continue;
    }
    writes.push(...labelWrite(project, sample.sampleId, { classIndex }, project.classes[classIndex], fail));
  }
  return { rows, labels, writes };
}

/** The write to the whole-image sample: proposals, a box-review label, or a class label; none when nothing is said. */
function imageWrites(item: ImportItem, ctx: ItemContext, sampleId: string, confidences: number[], boxes: BoxLabel[], fail: Fail): PlannedWrite[] {
  const { project } = ctx;
  const hasClasses = (item.classes ?? []).length > 0;
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  if (ctx.mode === 'proposals') {
    return item.boxes.length ? [{ sampleId, proposals: boxes, what: plural(boxes.length, 'proposal', 'proposals') }] : [];
  }
  const flag = item.ambiguous ? ', ambiguous' : '';
  if (project.taskType === 'box-review') {
    if (!(item.boxes.length || hasClasses || item.ambiguous || item.empty)) return [];
    const what = `${boxes.length ? plural(boxes.length, 'box', 'boxes') : 'no objects'}${hasClasses ? ` + ${describe(project, confidences)}` : ''}${flag}`;
    return labelWrite(project, sampleId, { confidences, ambiguous: item.ambiguous, boxes }, what, fail);
  }
  if (!(hasClasses || item.ambiguous || (item.empty && project.taskType === 'multi-label'))) return [];
  const what = hasClasses ? `${describe(project, confidences)}${flag}` : item.ambiguous ? 'ambiguous' : 'none of the classes';
  return labelWrite(project, sampleId, { confidences, ambiguous: item.ambiguous }, what, fail);
}

/** A label write, or a report problem when the project refuses that label (levels, sums, ambiguous). */
function labelWrite(
  project: Project,
  sampleId: string,
  input: Parameters<typeof normalizeLabel>[1],
  what: string,
  fail: Fail,
): PlannedWrite[] {
  try {
    return [{ sampleId, label: normalizeLabel(project, input), what }];
  } catch (err) {
    if (!(err instanceof WinnowError)) throw err;
    fail('invalid_label', err.message);
    return [];
  }
}

function describe(project: Project, confidences: number[]): string {
  return confidences.flatMap((c, i) => (c > 0 ? [c === 1 ? project.classes[i] : `${project.classes[i]} ${c}`] : [])).join(', ');
}
