// `winnow models`: bring your own ONNX model to the running Winnow, the same steps as the API (and the Models page):
// upload the file, print what Winnow read from its graph and the manifest it proposes, trial-run it on a few of a
// project's images, then register it; `models use` switches a project to a registered detector or embedder.

import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { InspectResult, ReembedJob, TrialResult } from '../domain/models.js';
import { api, localTarget, type Target } from './stack-client.js';
import type { Print } from './print.js';
import type { CliConfig } from '../local/config.js';

export const MODELS_USAGE = `  models register FILE.onnx [--name NAME] [--role embedder|classifier|detector] [--project ID]
         [--labels FILE.json] [--class-map from=to,...] [--input-shape 1,3,H,W] [--manifest FILE.json]
         [--save-manifest FILE.json] [--dry-run] [--data DIR]
      Upload an ONNX model, print its inputs/outputs and the manifest Winnow proposes (or use --manifest, e.g. an
      edited --save-manifest), trial-run it on a few of the project's images (a synthetic image without --project),
      then register it under NAME (default: the file name). --class-map maps a detector's classes onto the project's.
  models list [--data DIR]
  models use --project ID (--detector NAME|none | --embedder NAME) [--no-wait] [--data DIR]
      Use a registered detector on new uploads, or re-embed the project with a registered embedder (progress shown).`;

async function call<T>(target: Target, method: string, route: string, body?: unknown): Promise<T> {
  const res = await api<T & { message?: string }>(target, method, route, body);
  if (res.status >= 300) throw new Error(`${method} ${route} (${res.status}): ${res.body?.message ?? 'no reason given'}`);
  return res.body;
}

const shape = (t: { name: string; dtype: string; shape: (number | string)[] }) => `${t.name} ${t.dtype} [${t.shape.join(', ')}]`;

export function describeTrial(trial: TrialResult): string[] {
  const lines = [`trial on ${'projectId' in trial.source ? `project ${trial.source.projectId}` : 'a synthetic image'}: ${trial.msPerImage} ms per image`];
  for (const item of trial.items) {
    const parts: string[] = [];
    if (item.embedding) {
      parts.push(`norm ${item.embedding.norm} (${item.embedding.dims}-d)`);
      if (item.embedding.neighbours.length) parts.push(`nearest ${item.embedding.neighbours.map((n) => `${n.imageId} ${n.similarity}`).join(', ')}`);
    }
    if (item.top) parts.push(`top ${item.top.map((t) => `${t.name} ${(t.probability * 100).toFixed(1)}%`).join(', ')}`);
    if (item.boxes) parts.push(item.boxes.length ? `${item.boxes.length} boxes: ${item.boxes.slice(0, 5).map((b) => `${b.name} ${b.score} [${b.box.join(',')}]`).join('; ')}` : 'no boxes');
    lines.push(`  ${item.imageId}: ${parts.join('; ')}`);
  }
  return lines;
}

export async function modelsRegister(
  target: Target,
  file: string,
  opts: { name?: string; role?: string; project?: string; labels?: string[]; classMap?: Record<string, string>; inputShape?: (number | string)[]; manifest?: Record<string, unknown>; saveManifest?: string; dryRun?: boolean },
  out: Print = (l) => console.log(l),
): Promise<{ inspected: InspectResult; trial: TrialResult; registered: boolean }> {
  const bytes = await readFile(file);
  const name = opts.name ?? path.basename(file).replace(/\.onnx$/i, '').toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '');
  const up = await call<{ upload: string; url: string; headers: Record<string, string> }>(target, 'POST', '/api/models/uploads', { bytes: bytes.byteLength });
  const put = await fetch(up.url, { method: 'PUT', headers: up.headers, body: new Uint8Array(bytes) });
  if (!put.ok) throw new Error(`upload of ${file} failed (${put.status}): ${await put.text()}`);
  out(`uploaded ${file} (${bytes.byteLength} bytes)`);
  const inspected = await call<InspectResult>(target, 'POST', '/api/models/inspect', {
    upload: up.upload, name, ...(opts.role ? { role: opts.role } : {}), ...(opts.inputShape ? { inputShape: opts.inputShape } : {}),
  });
  out(`sha256 ${inspected.sha256}; ONNX IR ${inspected.graph.irVersion}, ${inspected.graph.nodes} nodes, ${inspected.graph.producer || 'unknown producer'}`);
  for (const i of inspected.graph.inputs) out(`  input  ${shape(i)}${i.dynamic.length ? ` (dynamic: ${i.dynamic.join(', ')})` : ''}`);
  for (const o of inspected.graph.outputs) out(`  output ${shape(o)}`);
  for (const note of inspected.proposal.notes) out(`  - ${note}`);
  const manifest = opts.manifest ?? inspected.proposal.manifest;
  if (opts.saveManifest) {
    await writeFile(opts.saveManifest, `${JSON.stringify({ manifest, labels: inspected.proposal.labels }, null, 2)}\n`);
    out(`proposed manifest written to ${opts.saveManifest}`);
  }
  const candidate = {
    manifest,
    ...(opts.labels ?? inspected.proposal.labels ? { labels: opts.labels ?? inspected.proposal.labels } : {}),
    ...(opts.classMap ? { classMap: opts.classMap } : {}),
    ...(opts.project ? { projectId: opts.project } : {}),
  };
  if (opts.dryRun) {
    const { trial } = await call<{ trial: TrialResult }>(target, 'POST', '/api/models/trial', candidate);
    for (const line of describeTrial(trial)) out(line);
    out('dry run: not registered');
    return { inspected, trial, registered: false };
  }
  const { trial } = await call<{ trial: TrialResult }>(target, 'POST', '/api/models', candidate);
  for (const line of describeTrial(trial)) out(line);
  out(`registered "${String(manifest.name)}" (${String(manifest.role)})`);
  return { inspected, trial, registered: true };
}

export async function modelsCommand(args: string[], cli: Pick<CliConfig, 'dataDir'>, out: Print = (l) => console.log(l)): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      role: { type: 'string' },
      project: { type: 'string' },
      labels: { type: 'string' },
      'class-map': { type: 'string' },
      'input-shape': { type: 'string' },
      manifest: { type: 'string' },
      'save-manifest': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      detector: { type: 'string' },
      embedder: { type: 'string' },
      'no-wait': { type: 'boolean', default: false },
      data: { type: 'string' },
    },
  });
  const usage = `usage:\n${MODELS_USAGE}`;
  if (sub === 'register') {
    if (positionals.length !== 1) throw new Error(usage);
    const classMap = values['class-map']
      ? Object.fromEntries(values['class-map'].split(',').map((pair) => {
          const [from, to] = pair.split('=').map((s) => s.trim());
          if (!from || !to) throw new Error(`--class-map: "${pair}" is not from=to`);
          return [from, to];
        }))
      : undefined;
    const inputShape = values['input-shape']?.split(',').map((d) => (/^\d+$/.test(d.trim()) ? Number(d) : d.trim()));
    let manifest: Record<string, unknown> | undefined;
    let labels = values.labels ? (JSON.parse(await readFile(values.labels, 'utf8')) as string[]) : undefined;
    if (values.manifest) {
      const saved = JSON.parse(await readFile(values.manifest, 'utf8')) as { manifest?: Record<string, unknown>; labels?: string[] };
      manifest = saved.manifest ?? (saved as Record<string, unknown>);
      labels ??= saved.labels;
    }
    await modelsRegister(await localTarget(values.data ?? cli.dataDir), positionals[0], {
      name: values.name, role: values.role, project: values.project, labels, classMap, inputShape, manifest,
      saveManifest: values['save-manifest'], dryRun: values['dry-run'],
    }, out);
    return 0;
  }
  if (sub === 'list') {
    const { models } = await call<{ models: { name: string; role: string; bytes: number; sha256: string; msPerImage: number }[] }>(await localTarget(values.data ?? cli.dataDir), 'GET', '/api/models');
    if (!models.length) out('no registered models');
    for (const m of models) out(`${m.name}\t${m.role}\t${m.bytes} bytes\t${m.msPerImage} ms/image\tsha256 ${m.sha256.slice(0, 12)}`);
    return 0;
  }
  if (sub === 'use') {
    if (!values.project || (!values.detector && !values.embedder)) throw new Error(usage);
    const target = await localTarget(values.data ?? cli.dataDir);
    const route = `/api/projects/${values.project}/models`;
    if (values.embedder) {
      const { cost } = await call<{ cost: { images: number; estimatedSeconds: number } }>(target, 'GET', `${route}?embedder=${encodeURIComponent(values.embedder)}`);
      out(`re-embedding ${cost.images} images with ${values.embedder}: about ${cost.estimatedSeconds} s`);
    }
    const body = { ...(values.detector ? { detector: values.detector === 'none' ? null : values.detector } : {}), ...(values.embedder ? { embedder: values.embedder } : {}) };
    const res = await call<{ detector: string | null; embedder: string | null; reembed?: ReembedJob }>(target, 'PUT', route, body);
    if (values.detector) out(`project ${values.project}: detector ${res.detector ?? 'default'} for new uploads`);
    if (!res.reembed || values['no-wait']) return 0;
    for (;;) {
      const { reembed } = await call<{ reembed: ReembedJob }>(target, 'GET', route);
      out(`re-embed ${reembed.done}/${reembed.total}${reembed.skipped ? ` (${reembed.skipped} skipped)` : ''} ${reembed.status}`);
      if (reembed.status === 'done') return 0;
      if (reembed.status === 'failed') {
        out(`re-embed failed: ${reembed.reason}`);
        return 1;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  throw new Error(usage);
}
