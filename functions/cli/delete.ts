// `winnow delete`: delete images (by id or filter), one labeler's annotations, or a whole project on the running
// Winnow, following the deletion job until it is done. A project needs its name typed (--confirm NAME).

import { parseArgs } from 'node:util';
import type { DeletionJob } from '../domain/deletion.js';
import { api, localTarget, type Target } from './stack-client.js';
import type { Print } from './print.js';
import type { CliConfig } from '../local/config.js';

export const DELETE_USAGE = `  delete --project ID [--image ID ...] [--failed] [--class NAME] [--labeler NAME] [--all --confirm NAME] [--data DIR]
      Delete with everything derived (originals, copies, samples, labels, embedding rows, ranking places):
      --image ID (repeatable) those images; --failed every failed image; --class NAME every image labeled NAME;
      --labeler NAME that labeler's annotations (samples fall back to the previous label, or to unlabeled);
      --all the whole project, which needs --confirm with the project's name. Waits until the job is done;
      running the same command again after an interruption finishes it.`;

type JobResponse = DeletionJob & { statusUrl?: string; code?: string; message?: string; requestId?: string };

export interface DeleteOptions {
  project: string;
  imageIds?: string[];
  failed?: boolean;
  labeledClass?: string;
  labeler?: string;
  all?: boolean;
  confirm?: string;
  log?: Print;
  pollMs?: number;
}

export async function deleteCommand(args: string[], cli: Pick<CliConfig, 'dataDir'>): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      project: { type: 'string' },
      image: { type: 'string', multiple: true },
      failed: { type: 'boolean', default: false },
      class: { type: 'string' },
      labeler: { type: 'string' },
      all: { type: 'boolean', default: false },
      confirm: { type: 'string' },
      data: { type: 'string' },
    },
  });
  if (!values.project) throw new Error(`usage:\n${DELETE_USAGE}`);
  const job = await runDeleteCommand(await localTarget(values.data ?? cli.dataDir), {
    project: values.project,
    imageIds: values.image,
    failed: values.failed,
    labeledClass: values.class,
    labeler: values.labeler,
    all: values.all,
    confirm: values.confirm,
  });
  console.log(JSON.stringify({ jobId: job.jobId, status: job.status, deleted: job.deleted }));
  return 0;
}

/** Starts the deletion and waits for it; returns the finished job. Throws with the server's reason. */
export async function runDeleteCommand(target: Target, opts: DeleteOptions): Promise<DeletionJob> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const chosen = [opts.imageIds?.length ? 'image' : '', opts.failed || opts.labeledClass ? 'filter' : '', opts.labeler ? 'labeler' : '', opts.all ? 'all' : ''].filter(Boolean);
  if (chosen.length !== 1) throw new Error(`say what to delete: exactly one of --image, --failed/--class, --labeler, --all\n${DELETE_USAGE}`);
  if (opts.all && opts.confirm === undefined) throw new Error(`--all deletes the whole project: add --confirm "<the project's name>"`);
  const project = encodeURIComponent(opts.project);
  const started = opts.all
    ? await api<JobResponse>(target, 'DELETE', `/api/projects/${project}`, { confirm: opts.confirm })
    : await api<JobResponse>(target, 'POST', `/api/projects/${project}/deletions`,
          opts.labeler
            ? { labelerId: opts.labeler } // in the body: any name, e.g. an email address
            : opts.imageIds?.length
            ? { imageIds: opts.imageIds }
            : { filter: { ...(opts.failed ? { status: 'failed' } : {}), ...(opts.labeledClass ? { labeledClass: opts.labeledClass } : {}) } });
  if (started.status !== 202 || !started.body.statusUrl) {
    throw new Error(`deletion refused (${started.status}): ${started.body?.message ?? 'no reason given'}`);
  }
  const statusUrl = started.body.statusUrl;
  let last = '';
  for (;;) {
    const { status, body } = await api<JobResponse>(target, 'GET', statusUrl);
    if (status !== 200) throw new Error(`deletion status (${status}): ${body?.message ?? 'no reason given'}`);
    const line = `${body.status} ${body.phase}: ${body.progress.done}${body.progress.total !== undefined ? `/${body.progress.total}` : ''}`;
    if (line !== last) log((last = line));
    if (body.status === 'done') return body;
    if (body.status === 'failed') throw new Error(`deletion failed: ${body.error}; run the same command again to finish it`);
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
  }
}
