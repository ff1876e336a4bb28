// The ModelLab port (functions/domain/models.ts) on onnxruntime: inspects an uploaded file, then trial-runs a
// proposed or edited manifest on a few of a project's images before the model is accepted. Every run here happens
// in a worker thread of its own that is thrown away afterwards: a model that does not load, crashes, or takes longer
// than the per-image timeout is stopped and reported, and nothing else (ingest's inference threads, the API) is
// affected.

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { badRequest, WinnowError } from '../domain/errors.js';
import {
  checkClassMap,
  DEFAULT_MODEL_MAX_BYTES,
  DEFAULT_MODEL_TIMEOUT_MS,
  MODEL_LAYOUT,
  type ModelCandidate,
  type ModelLab,
  type ModelRole,
  type RegisteredModel,
  type TrialItem,
  type TrialResult,
} from '../domain/models.js';
import type { Log, Stores } from '../domain/ports.js';
import { decodeImage } from './decode.js';
import { decodeDetections } from './detect.js';
import { isDetectorOutput, loadManifests, manifestSchema, type ModelManifest } from './manifest.js';
import { inspectionResult } from './graph-lab.js';
import { inspectOnnx, proposeManifest, type OnnxInspection } from './onnx-inspect.js';
import { embeddingOf, topClasses } from './outputs.js';
import { imageTensor } from './preprocess.js';
import { startReembed } from './reembed.js';
import { ensureLocalFile, labelsFile, type ModelRegistry } from './registry.js';
import sharp from 'sharp';

// The child's program (plain JavaScript, so it runs the same under tsx, vitest and a bundled Lambda). A child
// process, not a worker thread: onnxruntime aborts the whole process when a thread is terminated in the middle of a
// run, while a child process can be killed at any moment.
const CHILD_SOURCE = `
const ort = require(process.env.WINNOW_ORT_PATH);
let session;
process.on('message', async (msg) => {
  try {
    if (msg.type === 'open') {
      session = await ort.InferenceSession.create(msg.modelPath, { graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
      process.send({ id: msg.id, inputs: session.inputNames });
    } else {
      const started = performance.now();
      const results = await session.run({ [msg.inputName]: new ort.Tensor('float32', msg.data, msg.dims) });
      const ms = performance.now() - started;
      const outputs = {};
      for (const [name, t] of Object.entries(results)) {
        outputs[name] = { data: t.type === 'float32' ? new Float32Array(t.data) : Float32Array.from(t.data, Number), dims: t.dims.map(Number), type: t.type };
      }
      process.send({ id: msg.id, outputs, ms });
    }
  } catch (err) {
    process.send({ id: msg.id, error: err instanceof Error ? err.message : String(err) });
  }
});
process.on('disconnect', () => process.exit(0));
`;

type Reply = { id: number; error?: string; inputs?: string[]; outputs?: Record<string, { data: Float32Array; dims: number[]; type: string }>; ms?: number };

/** One model in a throw-away child process; every call has a deadline, after which the process is killed. */
class LabSession {
  private nextId = 1;
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private dead?: Error;

  constructor() {
    const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
    this.child = spawn(process.execPath, ['-e', CHILD_SOURCE], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
      env: { ...process.env, WINNOW_ORT_PATH: ortPath },
    });
    let stderr = '';
    this.child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    this.child.on('message', (r: Reply) => {
      const call = this.pending.get(r.id);
      this.pending.delete(r.id);
      call?.resolve(r);
    });
    const fail = (err: Error) => {
      this.dead ??= err;
      for (const call of this.pending.values()) call.reject(err);
      this.pending.clear();
    };
    this.child.on('error', fail);
    this.child.on('exit', (code, signal) => fail(new Error(`the model's process ended (${signal ?? `code ${code}`})${stderr ? `: ${stderr.trim().split('\n').pop()}` : ''}`)));
  }

  call(message: Record<string, unknown>, timeoutMs: number, onTimeout: () => Error): Promise<Reply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.child.kill('SIGKILL');
        reject(onTimeout());
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ ...message, id });
    });
  }

  close(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

export interface ModelLabOptions {
  stores: Stores;
  /** Where model files are cached by sha256 (shared with the registry that ingest uses). */
  registry: ModelRegistry;
  /** Largest model file, bytes (default 500 MB; npm start: WINNOW_MODEL_MAX_BYTES, read by local/config.ts). */
  maxBytes?: number;
  /** Longest one image may take in a trial run (default 10 s; WINNOW_MODEL_TIMEOUT_MS, local/config.ts); loading gets 6x. */
  timeoutMs?: number;
  /** Called once a project's embeddings from its new embedder are complete and the project switched (retrain). */
  onEmbedderSwitched?: (projectId: string) => void;
  log?: Log;
}

export function createModelLab(opts: ModelLabOptions): ModelLab {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_MODEL_TIMEOUT_MS;
  const cacheDir = opts.registry.cacheDir;
  const blobs = opts.stores.blobs;

  async function load(modelPath: string): Promise<LabSession> {
    const session = new LabSession();
    const reply = await session
      .call({ type: 'open', modelPath }, Math.max(timeoutMs * 6, 30_000), () => badRequest(`the model took longer than ${Math.max(timeoutMs * 6, 30_000)} ms to load`, { field: 'file' }))
      .catch((err: unknown) => {
        session.close();
        throw err instanceof WinnowError ? err : badRequest(`the ONNX model does not load in onnxruntime: ${(err as Error).message}`, { field: 'file' });
      });
    if (reply.error) {
      session.close();
      throw badRequest(`the ONNX model does not load in onnxruntime: ${reply.error.split('\n')[0]}`, { field: 'file' });
    }
    return session;
  }

  return {
    maxBytes: opts.maxBytes ?? DEFAULT_MODEL_MAX_BYTES,

    async inspect(bytes, { name, sha256, role, inputShape }) {
      const graph = inspectOnnx(bytes);
      // Loaded once from a scratch copy, so that a file onnxruntime refuses is refused here with its message.
      await mkdir(cacheDir, { recursive: true });
      const scratch = path.join(cacheDir, `inspect-${randomBytes(6).toString('hex')}.onnx`);
      await writeFile(scratch, bytes);
      try {
        (await load(scratch)).close();
      } finally {
        await rm(scratch, { force: true });
      }
      const proposal = proposeManifest(graph, { name, sha256, bytes: bytes.byteLength, role, inputShape });
      return inspectionResult(graph, proposal, { sha256, bytes: bytes.byteLength });
    },

    async trial(candidate, images, source) {
      const { manifest, labels } = completeManifest(candidate);
      const modelPath = await ensureLocalFile(blobs, cacheDir, manifest.sha256!, '.onnx').catch(() => {
        throw badRequest(`no uploaded model file with sha256 ${manifest.sha256}: upload and inspect it first`, { field: 'manifest.sha256' });
      });
      checkAgainstGraph(manifest, inspectOnnx(await readFile(modelPath)));
      const session = await load(modelPath);
      try {
        const trial = await runTrial(session, manifest, { ...candidate, ...(labels ? { labels } : {}) }, images, source, timeoutMs);
        return { manifest: manifest as unknown as Record<string, unknown>, ...(labels ? { labels } : {}), trial };
      } finally {
        session.close();
      }
    },

    reservedNames: async () => [...(await loadManifests()).keys()],

    startReembed: (projectId: string, model: RegisteredModel, by: string) =>
      startReembed({ stores: opts.stores, registry: opts.registry, onSwitched: opts.onEmbedderSwitched, log: opts.log }, projectId, model, by),
  };
}

/**
 * The candidate's manifest, validated, with its class names (given, or "class i" when none are) turned into the
 * content-addressed labels entry; returns the class names too (the registration stores them in the bucket).
 */
function completeManifest(candidate: ModelCandidate): { manifest: ModelManifest; labels?: string[] } {
  const raw = structuredClone(candidate.manifest) as { outputs?: { decode?: string; labels?: unknown; classes?: number }[] };
  const needsLabels = (raw.outputs ?? []).filter((o) => o && o.decode && o.decode !== 'embedding');
  let labels: string[] | undefined;
  if (needsLabels.length) {
    const classes = needsLabels[0].classes;
    labels = candidate.labels ?? (typeof classes === 'number' ? Array.from({ length: classes }, (_, i) => `class ${i}`) : []);
    if (typeof classes === 'number' && labels.length !== classes) {
      throw badRequest(`labels: ${labels.length} class names given, the model's output has ${classes} classes`, { field: 'labels' });
    }
    for (const o of needsLabels) o.labels = labelsFile(labels).entry;
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw badRequest(`invalid manifest: ${fields}`, { field: 'manifest' });
  }
  const manifest = parsed.data;
  if (!manifest.sha256 || !manifest.bytes) throw badRequest('manifest.sha256 and manifest.bytes must name the uploaded file', { field: 'manifest.sha256' });
  if (manifest.file !== `${manifest.sha256}.onnx`) throw badRequest(`manifest.file must be "${manifest.sha256}.onnx" (files are stored by sha256)`, { field: 'manifest.file' });
  if (candidate.classMap) {
    const output = manifest.outputs.find(isDetectorOutput);
    if (!output) throw badRequest('classMap is for detectors: this model has no detector output', { field: 'classMap' });
    checkClassMap(candidate.classMap, labels ?? []);
  }
  return { manifest, ...(labels ? { labels } : {}) };
}

/** The manifest must describe the graph: its input (rank 4, fixed sizes equal, dynamic ones fixed) and outputs. */
function checkAgainstGraph(manifest: ModelManifest, graph: OnnxInspection): void {
  const input = graph.inputs.find((i) => i.name === manifest.input.name);
  if (!input) throw badRequest(`manifest.input.name: the model has no input "${manifest.input.name}" (inputs: ${graph.inputs.map((i) => i.name).join(', ')})`, { field: 'manifest.input.name' });
  if (input.shape.length !== 4) {
    throw badRequest(`wrong input rank: input ${input.name} has ${input.shape.length} dimensions, the manifest feeds 4 (NCHW)`, { field: 'manifest.input.shape' });
  }
  manifest.input.shape.forEach((d, i) => {
    const g = input.shape[i];
    if (typeof g === 'number' && typeof d === 'number' && g !== d) {
      throw badRequest(`manifest.input.shape[${i}] is ${d} but the model's input ${input.name} has ${g} there`, { field: 'manifest.input.shape' });
    }
  });
  for (const o of manifest.outputs) {
    if (!graph.outputs.some((g) => g.name === o.name)) {
      throw badRequest(`manifest.outputs: the model has no output "${o.name}" (outputs: ${graph.outputs.map((g) => g.name).join(', ')})`, { field: 'manifest.outputs' });
    }
  }
}

/** A mid-grey 320x240 JPEG: stands in when no project image is given, so every model is run once before it is accepted. */
async function syntheticImage(): Promise<Uint8Array> {
  return sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 128, g: 120, b: 110 } } }).jpeg().toBuffer();
}

async function runTrial(
  session: LabSession,
  manifest: ModelManifest,
  candidate: ModelCandidate,
  images: { imageId: string; bytes: Uint8Array }[],
  source: TrialResult['source'],
  timeoutMs: number,
): Promise<TrialResult> {
  const role = manifest.role as ModelRole;
  const given = images.length ? images : [{ imageId: 'synthetic', bytes: await syntheticImage() }];
  const [batch, c, h, w] = manifest.input.shape;
  void batch;
  const items: TrialItem[] = [];
  const vectors: Float32Array[] = [];
  for (const img of given) {
    const image = await decodeImage(img.bytes).catch((err: unknown) => {
      throw new WinnowError('internal', `trial image ${img.imageId} does not decode: ${(err as Error).message}`);
    });
    const tensor = await imageTensor(image, manifest.preprocess);
    const reply = await session.call({ type: 'run', inputName: manifest.input.name, data: tensor.data, dims: [1, c, h, w] }, timeoutMs, () =>
      badRequest(`too slow: the model took longer than ${timeoutMs} ms on one image (the limit per image); it was stopped`, { field: 'file', timeoutMs }),
    );
    if (reply.error) throw badRequest(`the model failed on an image: ${reply.error.split('\n')[0]}`, { field: 'file' });
    const outputs = reply.outputs as Record<string, { data: Float32Array; dims: number[]; type: string }>;
    for (const o of manifest.outputs) {
      const out = outputs[o.name];
      if (!out) throw badRequest(`the model gave no output "${o.name}"`, { field: 'manifest.outputs' });
      const bad = out.data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) {
        throw badRequest(`the model outputs ${Number.isNaN(out.data[bad]) ? 'NaN' : 'infinite'} values (output "${o.name}", index ${bad}, on image ${img.imageId}): it cannot be used`, { field: 'file' });
      }
    }
    const item: TrialItem = { imageId: img.imageId, ms: Math.round(reply.ms! * 10) / 10, width: image.width, height: image.height };
    const perItem = (name: string) => ({ data: outputs[name].data, dims: outputs[name].dims.slice(1) });
    for (const o of manifest.outputs) {
      if (o.decode === 'embedding') {
        let raw: Float32Array;
        try {
          raw = embeddingOf(o, { [o.name]: perItem(o.name) });
        } catch (err) {
          throw badRequest(`embedding output: ${(err as Error).message}`, { field: 'manifest.outputs' });
        }
        const out = perItem(o.name);
        const start = (o.token ?? 0) * o.dims;
        const norm = Math.hypot(...out.data.subarray(start, start + o.dims));
        vectors.push(raw);
        item.embedding = { dims: o.dims, norm: Math.round(norm * 1e4) / 1e4, neighbours: [] };
      } else if (o.decode === 'logits-softmax') {
        const out = perItem(o.name);
        if (out.data.length !== o.classes) throw badRequest(`output "${o.name}" has ${out.data.length} values, the manifest says ${o.classes} classes`, { field: 'manifest.outputs' });
        item.top = topClasses(out.data, candidate.labels ?? [], 3).map(({ name, probability }) => ({ name, probability: Math.round(probability * 1e4) / 1e4 }));
      } else {
        let found;
        try {
          found = decodeDetections(perItem(o.name), o, candidate.labels ?? [], tensor, image, {
            scoreThreshold: o.scoreThreshold,
            iouThreshold: o.iouThreshold,
            maxDetections: o.maxDetections,
            ...(candidate.classMap ? { classMap: candidate.classMap } : {}),
          });
        } catch (err) {
          throw badRequest(`detector output: ${(err as Error).message}`, { field: 'manifest.outputs' });
        }
        item.boxes = found.map((d) => ({ box: d.box, name: d.name, score: Math.round(d.score * 1e4) / 1e4 }));
      }
    }
    items.push(item);
  }
  // Nearest neighbours among the trial images, by cosine of the normalised embeddings.
  if (vectors.length === items.length && vectors.length > 0) {
    items.forEach((item, i) => {
      item.embedding!.neighbours = items
        .map((other, j) => ({ imageId: other.imageId, similarity: j === i ? -2 : dot(vectors[i], vectors[j]) }))
        .filter((n) => n.similarity > -2)
        .sort((a, b) => b.similarity - a.similarity)
        .slice(0, 3)
        .map((n) => ({ imageId: n.imageId, similarity: Math.round(n.similarity * 1e4) / 1e4 }));
    });
  }
  const msPerImage = items.reduce((s, i) => s + i.ms, 0) / items.length;
  return { role, items, msPerImage: Math.round(msPerImage * 10) / 10, source: images.length ? source : { synthetic: true } };
}

const dot = (a: Float32Array, b: Float32Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
