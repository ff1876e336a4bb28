// The import report for people: a heading, the rows with problems as a table (all of them in the CSV written with
// --report), and notes worth a look on a clean run (clamped boxes, labels kept).

import { writeFile } from 'node:fs/promises';
import type { ImportReportRow } from '../domain/interchange/model.js';
import { csvCell } from '../domain/interchange/names.js';
import type { Print } from './print.js';

const SHOWN = 40;

export function printReport(rows: ImportReportRow[], heading: string, log: Print): void {
  const failed = rows.filter((r) => !r.ok);
  const notes = rows.filter((r) => r.ok && r.action && /clamped|kept|would upload/.test(r.action));
  log(heading);
  const shown = failed.length ? failed : notes;
  if (shown.length === 0) return;
  log(failed.length ? `${failed.length} of ${rows.length} rows have problems:` : `${notes.length} rows to note:`);
  const width = Math.min(60, Math.max(...shown.slice(0, SHOWN).map((r) => r.source.length)));
  for (const r of shown.slice(0, SHOWN)) {
    const status = r.ok ? 'note  ' : 'FAILED';
    log(`  ${status}  ${r.source.padEnd(width)}  ${r.ok ? r.action : r.problem}`);
  }
  if (shown.length > SHOWN) log(`  ... and ${shown.length - SHOWN} more (write them all with --report FILE)`);
}

export async function writeReportCsv(file: string, rows: ImportReportRow[]): Promise<void> {
  const header = ['ok', 'source', 'file', 'image', 'code', 'problem', 'action'];
  const lines = rows.map((r) => [r.ok, r.source, r.file, r.image, r.code, r.problem, r.action].map(csvCell).join(','));
  await writeFile(file, [header.join(','), ...lines].join('\n') + '\n');
}
