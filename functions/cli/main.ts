// Composition root of the `winnow` command line (`npm run winnow -- <command>`).

import { parseArgs } from 'node:util';
import path from 'node:path';
import { defaultModelDir } from '../vision/manifest.js';
import { importFolder } from './import.js';
import { fetchModels } from './models-fetch.js';
import { localTarget } from './stack-client.js';
import { usersCommand } from './users.js';

const USAGE = `usage: npm run winnow -- <command>

commands:
  import DIR --project ID [--classes a,b,c] [--task single-label|multi-label|box-review]
             [--concurrency 8] [--no-wait] [--data DIR]
      Upload every image under DIR (recursively) to uploads/<ID>/ in the running Winnow's bucket,
      creating the project if needed, then wait for ingest. Non-images are reported and skipped.
  users add NAME [--admin] [--data DIR]      add a user for sign-in (npm start -- --auth); prints a one-time password
  users list [--data DIR]
  models:fetch [--dir DIR] [--mirror URL]
      Download the model files the manifests in models/ need and are missing from DIR (default
      WINNOW_MODELS or ../shared/models), verifying each sha256.`;

async function main(argv: string[]) {
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
    const target = await localTarget(values.data);
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
  if (command === 'users') return usersCommand(rest);
  if (command === 'models:fetch') {
    const { values } = parseArgs({ args: rest, options: { dir: { type: 'string' }, mirror: { type: 'string' } } });
    const report = await fetchModels({ modelDir: path.resolve(values.dir ?? defaultModelDir()), mirror: values.mirror });
    console.log(`fetched ${report.fetched.length}, already present ${report.alreadyPresent.length}, failed ${report.failed.length}`);
    return report.failed.length ? 1 : 0;
  }
  console.log(USAGE);
  return command && command !== 'help' && command !== '--help' ? 2 : 0;
}

main(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((err) => {
    console.error(`winnow: ${(err as Error).message}`);
    process.exit(1);
  });
