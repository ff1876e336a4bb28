// The ModelLab port (functions/domain/models.ts) without onnxruntime, for the cloud API function (which carries neither
// onnxruntime nor sharp): inspecting an uploaded file reads its graph from the protobuf alone and proposes a manifest,
// as the local stack does, except that the file is not loaded (said in the proposal's notes). Trial runs, registration
// (which runs the trial again) and re-embedding need onnxruntime: they answer 503 naming where they run.

import { DEFAULT_MODEL_MAX_BYTES, type InspectResult, type ModelLab } from '../domain/models.js';
import { WinnowError } from '../domain/errors.js';
import { inspectOnnx, proposeManifest, type OnnxInspection, type Proposal } from './onnx-inspect.js';

/** The answer of POST /api/models/inspect, from the graph and the proposal (both labs). */
export function inspectionResult(graph: OnnxInspection, proposal: Proposal, file: { sha256: string; bytes: number }, extraNotes: string[] = []): InspectResult {
  return {
    sha256: file.sha256,
    bytes: file.bytes,
    graph: { irVersion: graph.irVersion, opsets: graph.opsets, producer: graph.producer, inputs: graph.inputs, outputs: graph.outputs, nodes: graph.nodes },
    proposal: {
      manifest: proposal.manifest as unknown as Record<string, unknown>,
      ...(proposal.labels ? { labels: proposal.labels } : {}),
      notes: [...proposal.notes, ...extraNotes],
    },
  };
}

export const NOT_LOADED_NOTE =
  'Read from the graph only: this server runs no ONNX runtime, so the file has not been loaded yet (the trial run on the local stack loads it).';

const needsRuntime = (what: string) =>
  new WinnowError(
    'unavailable',
    `${what} needs the ONNX runtime, which this server (the cloud API function) does not carry: it runs on the local stack ` +
      'only for now (npm start, or npm run winnow -- models ...)',
  );

export function graphOnlyModelLab(opts: { maxBytes?: number } = {}): ModelLab {
  return {
    maxBytes: opts.maxBytes ?? DEFAULT_MODEL_MAX_BYTES,
    async inspect(bytes, { name, sha256, role, inputShape }) {
      const graph = inspectOnnx(bytes);
      const proposal = proposeManifest(graph, { name, sha256, bytes: bytes.byteLength, role, inputShape });
      return inspectionResult(graph, proposal, { sha256, bytes: bytes.byteLength }, [NOT_LOADED_NOTE]);
    },
    trial: () => Promise.reject(needsRuntime('trying or registering a model')),
    // Checked by registration before its trial, which this lab refuses anyway; the shipped manifests are not in the bundle.
    reservedNames: async () => [],
    startReembed: () => Promise.reject(needsRuntime('re-embedding a project')),
  };
}
