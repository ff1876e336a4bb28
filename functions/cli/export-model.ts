// `winnow export-model`: download the project's trained classifier from the running Winnow, as one ONNX file or as a
// plain head (zip), and write its model card as JSON beside it.

import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { unzipSync } from 'fflate';
import { MODEL_FORMATS, type ModelFormat } from '../export/model-export.js';
import { onnxMetadata } from '../export/model-onnx.js';
import { localTarget, type Target } from './stack-client.js';
import type { CliConfig } from '../local/config.js';

export const EXPORT_MODEL_USAGE = `  export-model --project ID [-o FILE] [--format ${MODEL_FORMATS.join('|')}] [--data DIR]
      Download the trained classifier: onnx (default) = one ONNX file, the embedder graph + the head + softmax, input
      the embedder's image tensor, output "probabilities", class names and model card in its metadata; head = a zip
      of weights.npy, bias.npy, classes.json and model-card.json for features computed elsewhere. The model card
      (classes, labels, accuracy estimate, embedder, pre-processing, date) is also written to FILE.card.json.`;

export async function exportModelCommand(args: string[], cli: Pick<CliConfig, 'dataDir'>): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      project: { type: 'string' },
      format: { type: 'string', default: 'onnx' },
      output: { type: 'string', short: 'o' },
      data: { type: 'string' },
    },
  });
  if (!values.project) throw new Error(`usage:\n${EXPORT_MODEL_USAGE}`);
  if (!(MODEL_FORMATS as readonly string[]).includes(values.format)) {
    throw new Error(`--format must be one of ${MODEL_FORMATS.join(', ')} (got "${values.format}")`);
  }
  const written = await runExportModel(await localTarget(values.data ?? cli.dataDir), { project: values.project, format: values.format as ModelFormat, output: values.output });
  console.log(written.file);
  return 0;
}

export interface ExportModelOptions {
  project: string;
  format: ModelFormat;
  output?: string;
}

/** Downloads the export; returns the file and its card's path. Throws with the server's reason on failure. */
export async function runExportModel(target: Target, opts: ExportModelOptions): Promise<{ file: string; card: string }> {
  const route = `/api/projects/${encodeURIComponent(opts.project)}/classifier?format=${opts.format}`;
  const res = await fetch(`${target.apiUrl}${route}`, { headers: target.headers });
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (!res.ok) {
    let reason = `${res.status}`;
    try {
      const body = JSON.parse(new TextDecoder().decode(bytes)) as { message?: string; requestId?: string };
      reason = `(${res.status}): ${body.message ?? 'no reason given'}${body.requestId ? ` (request id ${body.requestId})` : ''}`;
    } catch {
      // not JSON: the status says it all
    }
    throw new Error(`model export refused ${reason}`);
  }
  const given = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? `${opts.project}-classifier.${opts.format === 'onnx' ? 'onnx' : 'zip'}`;
  const file = path.resolve(opts.output ?? given);
  const card = opts.format === 'onnx' ? onnxMetadata(bytes).model_card : new TextDecoder().decode(unzipSync(bytes)['model-card.json']);
  // Written beside the destination and renamed: an interrupted write never looks finished.
  await writeFile(`${file}.part`, bytes);
  await rename(`${file}.part`, file);
  const cardFile = `${file.replace(/\.(onnx|zip)$/, '')}.card.json`;
  await writeFile(cardFile, `${JSON.stringify(JSON.parse(card), null, 2)}\n`);
  process.stderr.write(`model card: ${cardFile}\n`);
  return { file, card: cardFile };
}
