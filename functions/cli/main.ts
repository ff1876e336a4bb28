// Composition root of the `winnow` command line (`npm run winnow -- <command>`).

import { parseArgs } from 'node:util';
import { DEFAULT_FEATURE_MODEL, planFeatureImport, runFeatureImport } from './import-features.js';
import { AUTOLABEL_USAGE, autolabelCommand } from './autolabel.js';
import { DELETE_USAGE, deleteCommand } from './delete.js';
import { EXPORT_USAGE, exportCommand } from './export.js';
import { EXPORT_MODEL_USAGE, exportModelCommand } from './export-model.js';
import { importFolder } from './import.js';
import { importLabelsCommand } from './import-labels-command.js';
import { MODELS_FETCH_USAGE, modelsFetchCommand } from './models-fetch.js';
import { MODELS_USAGE, modelsCommand } from './models.js';
import { localTarget } from './stack-client.js';
import { parseCliConfig, type CliConfig } from '../local/config.js';
import { usersCommand } from './users.js';

const USAGE = `usage: npm run winnow -- <command>

commands:
  import DIR --project ID [--classes a,b,c] [--task single-label|multi-label|box-review]
             [--concurrency 8] [--no-wait] [--data DIR]
      Upload every image under DIR (recursively) to uploads/<ID>/ in the running Winnow's bucket,
      creating the project if needed, then wait for ingest. Non-images are reported and skipped.
  import-features CSV --features NPY --images DIR --project ID [--classes a,b,c] [--model NAME]
             [--task ...] [--concurrency 8] [--data DIR]
      Bring your own embeddings (e.g. DINOv2 computed elsewhere): CSV columns filename,bbox,annotation,feat_idx
      (bbox and annotation optional); feat_idx is the row of the .npy matrix (float16/32/64, 2-d, C order).
      bbox is top_row-left_col-bottom_row-right_col in pixels, stored as Winnow's [x1,y1,x2,y2] = [left,top,right,bottom].
      annotation, when set, is a class name: that sample is labeled unless it already is. Uploads the referenced
      images from DIR, then the vectors under --model (default: the project's, else "${DEFAULT_FEATURE_MODEL}"), which the
      trainer then uses for this project. Safe to run again.
  import-labels PATH --format coco|voc|yolo|csv --project ID [--as labels|proposals] [--overwrite]
             [--create-project] [--dry-run] [--report FILE] [--images DIR] [--concurrency 8] [--data DIR]
      Import existing labels: PATH is an annotation file (images beside it, or --images DIR), a folder or a
      .zip. Images the project lacks are uploaded from PATH and ingested first. Every row is checked (unknown
      classes, boxes outside the image or empty, duplicate or missing images, sizes that differ) and the report
      printed; nothing is written unless all rows are clean. --as proposals: boxes to review (box-review
      projects). Existing labels are kept unless --overwrite (the history keeps them). Safe to run again.
${EXPORT_USAGE}
${EXPORT_MODEL_USAGE}
${AUTOLABEL_USAGE}
${DELETE_USAGE}
  users add NAME [--admin] [--data DIR]      add a user for sign-in (npm start -- --auth); prints a one-time password
  users list [--data DIR]
${MODELS_USAGE}
${MODELS_FETCH_USAGE}`;

async function main(argv: string[], cli: CliConfig) {
  const [command, ...rest] = argv;
  if (command === 'import') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        project: { type: 'string' },
        classes: { type: 'string' },
        task: { type: 'string' },
        concurrency: { type: 'string', default: '8' },
        'no-wait': { type: 'boolean', default: false },
        data: { type: 'string' },
      },
    });
    if (positionals.length !== 1 || !values.project) throw new Error(USAGE);
    const target = await localTarget(values.data ?? cli.dataDir);
    const report = await importFolder(target, {
      dir: positionals[0],
      project: values.project,
      classes: values.classes?.split(',').map((c) => c.trim()).filter(Boolean),
      taskType: values.task,
      concurrency: Number(values.concurrency),
      wait: !values['no-wait'],
    });
    return report.failed.length ? 1 : 0;
  }
  if (command === 'import-features') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        features: { type: 'string' },
        images: { type: 'string' },
        project: { type: 'string' },
        classes: { type: 'string' },
        model: { type: 'string' },
        task: { type: 'string' },
        concurrency: { type: 'string', default: '8' },
        data: { type: 'string' },
      },
    });
    if (positionals.length !== 1 || !values.features || !values.images || !values.project) throw new Error(USAGE);
    const opts = {
      csv: positionals[0],
      features: values.features,
      images: values.images,
      project: values.project,
      classes: values.classes?.split(',').map((c) => c.trim()).filter(Boolean),
      model: values.model,
      taskType: values.task,
      concurrency: Number(values.concurrency),
    };
    const plan = await planFeatureImport(opts); // every local problem before touching the stack
    await runFeatureImport(await localTarget(values.data ?? cli.dataDir), plan, opts);
    return 0;
  }
  if (command === 'import-labels') return importLabelsCommand(rest, cli);
  if (command === 'export') return exportCommand(rest, cli);
  if (command === 'export-model') return exportModelCommand(rest, cli);
  if (command === 'autolabel') return autolabelCommand(rest, cli);
  if (command === 'delete') return deleteCommand(rest, cli);
  if (command === 'users') return usersCommand(rest, cli);
  if (command === 'models:fetch') return modelsFetchCommand(rest, cli);
  if (command === 'models') return modelsCommand(rest, cli);
  console.log(USAGE);
  return command && command !== 'help' && command !== '--help' ? 2 : 0;
}

Promise.resolve()
  .then(() => main(process.argv.slice(2), parseCliConfig(process.env)))
  .then((code) => process.exit(code))
  .catch((err) => {
    console.error(`winnow: ${(err as Error).message}`);
    process.exit(1);
  });
