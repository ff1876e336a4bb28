// Argument parsing of `winnow import-labels` (see runLabelImport for what it does). Exit code 0 when the report is
// clean (and applied, unless --dry-run), 1 otherwise.

import { parseArgs } from 'node:util';
import { runLabelImport } from './import-labels.js';
import { FORMATS, type LabelFormat } from './label-files.js';
import { localTarget } from './stack-client.js';
import type { CliConfig } from '../local/config.js';

export async function importLabelsCommand(args: string[], cli: Pick<CliConfig, 'dataDir'>): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      format: { type: 'string' },
      project: { type: 'string' },
      as: { type: 'string', default: 'labels' },
      overwrite: { type: 'boolean', default: false },
      'create-project': { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      report: { type: 'string' },
      images: { type: 'string' },
      concurrency: { type: 'string', default: '8' },
      data: { type: 'string' },
    },
  });
  const usage = 'usage: npm run winnow -- import-labels PATH --format coco|voc|yolo|csv --project ID [--as labels|proposals] [--overwrite] [--create-project] [--dry-run] [--report FILE] [--images DIR]';
  if (positionals.length !== 1 || !values.project || !values.format) throw new Error(usage);
  if (!FORMATS.includes(values.format as LabelFormat)) throw new Error(`--format ${values.format}: use one of ${FORMATS.join(', ')}`);
  if (values.as !== 'labels' && values.as !== 'proposals') throw new Error(`--as ${values.as}: use labels or proposals`);
  const result = await runLabelImport(() => localTarget(values.data ?? cli.dataDir), {
    path: positionals[0],
    format: values.format as LabelFormat,
    project: values.project,
    mode: values.as,
    overwrite: values.overwrite,
    createProject: values['create-project'],
    dryRun: values['dry-run'],
    report: values.report,
    images: values.images,
    concurrency: Number(values.concurrency),
  });
  return result.ok ? 0 : 1;
}
