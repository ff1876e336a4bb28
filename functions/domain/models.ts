// Models brought by users: what a registered model is, where it lives in the bucket, and the port that inspects and
// trial-runs one (implemented with onnxruntime in functions/vision/model-lab.ts). A model file is stored once under
// `models/<sha256>` and shared by every project that uses it; its registration (manifest, class names, class map,
// trial result) is one small JSON object per name. No AWS SDK, Hono or onnxruntime here.

import { badRequest } from './errors.js';

export const MODEL_LAYOUT = {
  /** The ONNX file, content-addressed. */
  file: (sha256: string) => `models/${sha256}`,
  /** A class-name list (JSON array), content-addressed like the model files. */
  labels: (sha256: string) => `models/${sha256}`,
  /** A registration, by name. */
  recordPrefix: 'models/registry/',
  record: (name: string) => `models/registry/${name}.json`,
  /** Where a browser or the CLI puts a file before it is inspected (presigned PUT). */
  upload: (uploadId: string) => `models/uploads/${uploadId}.onnx`,
  /** A project's re-embedding job (progress, outcome). */
  reembedJob: (projectId: string) => `models/jobs/reembed/${projectId}.json`,
} as const;

export const MODEL_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const SHA256 = /^[0-9a-f]{64}$/;
export const MODEL_ROLES = ['embedder', 'classifier', 'detector'] as const;
export type ModelRole = (typeof MODEL_ROLES)[number];

/** Default largest model file accepted (WINNOW_MODEL_MAX_BYTES to change). */
export const DEFAULT_MODEL_MAX_BYTES = 500 * 1024 * 1024;
/** Default longest a model may take on one image in the trial run (WINNOW_MODEL_TIMEOUT_MS to change). */
export const DEFAULT_MODEL_TIMEOUT_MS = 10_000;

export interface RegisteredModel {
  name: string;
  role: ModelRole;
  sha256: string;
  bytes: number;
  /** The accepted manifest (functions/vision/manifest.ts schema), file and labels pointing at content-addressed objects. */
  manifest: Record<string, unknown>;
  /** Class names of the classifier's or detector's output, index order. */
  labels?: string[];
  /** Detector class -> project class name its boxes get; classes left out are dropped. */
  classMap?: Record<string, string>;
  /** The trial run made before it was accepted. */
  trial: TrialResult;
  registeredAt: string;
  registeredBy: string;
}

export interface TrialImage {
  imageId: string;
  bytes: Uint8Array;
}

export interface TrialItem {
  imageId: string;
  /** Time inside the model for this image. */
  ms: number;
  /** Embedder: the raw output vector's L2 norm and length, and the nearest other trial images by cosine. */
  embedding?: { dims: number; norm: number; neighbours: { imageId: string; similarity: number }[] };
  /** Classifier: the most probable classes. */
  top?: { name: string; probability: number }[];
  /** Detector: boxes in original-image pixels, after the class map. */
  boxes?: { box: [number, number, number, number]; name: string; score: number }[];
  width?: number;
  height?: number;
}

export interface TrialResult {
  role: ModelRole;
  items: TrialItem[];
  /** Mean time inside the model per image. */
  msPerImage: number;
  /** Whether the images came from a project, or a synthetic image stood in (no project given or none ready). */
  source: { projectId: string } | { synthetic: true };
}

export interface InspectResult {
  sha256: string;
  bytes: number;
  graph: {
    irVersion: number;
    opsets: { domain: string; version: number }[];
    producer: string;
    inputs: { name: string; dtype: string; shape: (number | string)[]; dynamic: number[] }[];
    outputs: { name: string; dtype: string; shape: (number | string)[]; dynamic: number[] }[];
    nodes: number;
  };
  proposal: { manifest: Record<string, unknown>; labels?: string[]; notes: string[] };
}

export interface ModelCandidate {
  manifest: Record<string, unknown>;
  labels?: string[];
  classMap?: Record<string, string>;
}

/** What the API needs to inspect, try and use models (onnxruntime adapter: functions/vision/model-lab.ts). */
export interface ModelLab {
  /** Largest model file accepted, in bytes. */
  readonly maxBytes: number;
  /** Parses the graph, loads it once and proposes a manifest; throws bad_request with the reason. */
  inspect(bytes: Uint8Array, opts: { name: string; sha256: string; role?: ModelRole; inputShape?: (number | string)[] }): Promise<InspectResult>;
  /**
   * Validates the manifest against the stored file and runs the model on the images (or a synthetic one), each
   * within the per-image timeout; throws bad_request for a model that does not load, outputs NaN, is too slow...
   */
  trial(
    candidate: ModelCandidate,
    images: TrialImage[],
    source: TrialResult['source'],
  ): Promise<{ manifest: Record<string, unknown>; /** The class names used (given, or generic ones). */ labels?: string[]; trial: TrialResult }>;
  /** Names of the models Winnow ships (not available to registrations). */
  reservedNames(): Promise<string[]>;
  /** Re-embeds a project with a registered embedder in the background; progress in the job record. */
  startReembed(projectId: string, model: RegisteredModel, by: string): Promise<ReembedJob>;
}

export interface ReembedJob {
  projectId: string;
  /** The embedder the project moves to, and the one it had. */
  model: string;
  from: string;
  status: 'running' | 'done' | 'failed';
  /** Images to embed, and done so far (each with its box samples). */
  total: number;
  done: number;
  /** Images whose original could not be read or decoded (left out of the new embeddings). */
  skipped: number;
  reason?: string;
  startedAt: string;
  updatedAt: string;
  finishedAt?: string;
  startedBy: string;
}

/** Checks a class map against the model's classes and the project's (when given): unknown names are refused. */
export function checkClassMap(classMap: Record<string, string>, modelClasses: readonly string[], projectClasses?: readonly string[]): void {
  for (const [from, to] of Object.entries(classMap)) {
    if (!modelClasses.includes(from)) {
      throw badRequest(`classMap: "${from}" is not one of the model's classes (${preview(modelClasses)})`, { field: 'classMap' });
    }
    if (projectClasses && !projectClasses.some((c) => c.toLowerCase() === to.toLowerCase())) {
      throw badRequest(`classMap: "${from}" maps to "${to}", which is not one of the project's classes (${preview(projectClasses)})`, { field: 'classMap' });
    }
  }
}

const preview = (names: readonly string[]) => (names.length > 8 ? `${names.slice(0, 8).join(', ')}, ... ${names.length} in all` : names.join(', '));
