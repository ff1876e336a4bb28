// Reading a user's ONNX file before anything runs it: the graph's inputs and outputs with their shapes (dynamic
// dimensions flagged), and a proposed manifest (manifest.ts) for the role it looks like, which the owner reviews
// and accepts. Everything a file can get wrong that the graph alone shows is refused here with a reason: not
// ONNX, no graph, wrong input rank or channels, a non-float input, dynamic image sizes.

import onnxProto, { type onnx as OnnxNamespace } from 'onnx-proto';
import { badRequest } from '../domain/errors.js';
import { COCO80 } from './derive.js';
import { DETECTOR_DECODES, type ModelManifest } from './manifest.js';

// onnx-proto is a CommonJS bundle (protobufjs) whose default export holds the namespace. Imported statically so that
// esbuild puts it in the Lambda bundles (a require made at run time is not bundled: the API function failed to start).
const { onnx } = onnxProto as unknown as { onnx: typeof OnnxNamespace };

export type ModelRole = ModelManifest['role'];
/** A dimension: a fixed size, or the name of a dynamic one (e.g. "batch"), or "?" when unnamed. */
export type Dim = number | string;

export interface TensorInfo {
  name: string;
  /** ONNX element type name, e.g. "float32". */
  dtype: string;
  shape: Dim[];
  /** Indexes of the dynamic dimensions. */
  dynamic: number[];
}

export interface OnnxInspection {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producer: string;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  nodes: number;
  /** The model's metadata_props (e.g. class names some exporters write). */
  metadata: Record<string, string>;
}

const DTYPES: Record<number, string> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool',
  10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 16: 'bfloat16',
};

const ONNX_HINT = 'an ONNX model file (.onnx, a serialized onnx.ModelProto) was expected';

/** Parses the graph; throws bad_request naming the problem when the bytes are not a usable ONNX model. */
export function inspectOnnx(bytes: Uint8Array): OnnxInspection {
  if (bytes.byteLength < 16) throw badRequest(`not an ONNX file: only ${bytes.byteLength} bytes; ${ONNX_HINT}`, { field: 'file' });
  let model: OnnxNamespace.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw badRequest(`not an ONNX file: it does not parse as an ONNX protobuf (${(err as Error).message}); ${ONNX_HINT}`, { field: 'file' });
  }
  const graph = model.graph;
  // Any protobuf-looking bytes decode to some message: an ONNX model has an IR version and a graph with nodes.
  if (!model.irVersion || !graph || !graph.node?.length || !graph.output?.length) {
    throw badRequest(`not an ONNX file: it has no ONNX graph (no IR version, nodes or outputs); ${ONNX_HINT}`, { field: 'file' });
  }
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const info = (v: OnnxNamespace.IValueInfoProto): TensorInfo => {
    const tensor = v.type?.tensorType;
    const dims = tensor?.shape?.dim ?? [];
    const shape: Dim[] = dims.map((d) => (d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0 ? Number(d.dimValue) : '?'));
    return {
      name: v.name ?? '',
      dtype: DTYPES[tensor?.elemType ?? 0] ?? `type ${tensor?.elemType ?? '?'}`,
      shape,
      dynamic: shape.flatMap((d, i) => (typeof d === 'string' ? [i] : [])),
    };
  };
  return {
    irVersion: Number(model.irVersion),
    opsets: (model.opsetImport ?? []).map((o) => ({ domain: o.domain || 'ai.onnx', version: Number(o.version) })),
    producer: [model.producerName, model.producerVersion].filter(Boolean).join(' '),
    inputs: (graph.input ?? []).filter((i) => !initializers.has(i.name ?? '')).map(info),
    outputs: (graph.output ?? []).map(info),
    nodes: graph.node.length,
    metadata: Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? ''])),
  };
}

export interface Proposal {
  manifest: ModelManifest;
  /** Class names for a classifier's or detector's output (index order), when known; else generic names. */
  labels?: string[];
  /** What the proposal guessed and the owner should check. */
  notes: string[];
}

const show = (t: TensorInfo) => `${t.name} [${t.shape.join(', ')}]`;

/**
 * The manifest Winnow proposes for a file: input and outputs from the graph, the decode its output shapes fit
 * (`role` decides between an embedder and a classifier, which look alike), and the usual pre-processing for that
 * kind of model. Throws bad_request when the graph cannot be an image model Winnow runs.
 */
export function proposeManifest(
  g: OnnxInspection,
  file: { name: string; sha256: string; bytes: number; role?: ModelRole; description?: string; inputShape?: Dim[] },
): Proposal {
  const notes: string[] = [];
  if (g.inputs.length !== 1) {
    throw badRequest(`the model has ${g.inputs.length} inputs (${g.inputs.map(show).join('; ')}); Winnow feeds one image tensor [batch, 3, height, width]`, { field: 'file' });
  }
  const input = file.inputShape ? fixInput(g.inputs[0], file.inputShape) : g.inputs[0];
  if (file.inputShape) notes.push(`input shape fixed by the owner: [${input.shape.join(', ')}]`);
  if (input.shape.length !== 4) {
    throw badRequest(`wrong input rank: input ${show(input)} has ${input.shape.length} dimensions; Winnow feeds an image tensor [batch, 3, height, width] (NCHW, rank 4)`, { field: 'file' });
  }
  if (input.dtype !== 'float32') throw badRequest(`input ${show(input)} is ${input.dtype}; Winnow feeds float32 image tensors`, { field: 'file' });
  if (input.shape[1] !== 3) {
    throw badRequest(`input ${show(input)} has ${input.shape[1]} channels (dimension 1); Winnow feeds 3-channel NCHW images`, { field: 'file' });
  }
  const [h, w] = [input.shape[2], input.shape[3]];
  if (typeof h !== 'number' || typeof w !== 'number') {
    throw badRequest(
      `dynamic shapes: input ${show(input)} leaves its height/width open; export it with a fixed image size (e.g. 224 or 640), or register it with a manifest whose input.shape fixes them`,
      { field: 'file', dynamic: input.dynamic },
    );
  }
  if (h !== w) throw badRequest(`input ${show(input)} is ${h}x${w}; Winnow's pre-processing makes square inputs`, { field: 'file' });
  const batch = input.shape[0];
  if (typeof batch === 'string') notes.push(`input batch dimension "${batch}" is dynamic: Winnow batches up to 8 images per run`);
  const floatOutputs = g.outputs.filter((o) => o.dtype === 'float32');
  if (floatOutputs.length === 0) throw badRequest(`the model has no float32 output (${g.outputs.map(show).join('; ')})`, { field: 'file' });

  const perImage = (o: TensorInfo) => (o.shape.length >= 2 ? o.shape.slice(1) : o.shape);
  const detectorOutput = floatOutputs.map((o) => ({ o, det: detectorShape(perImage(o), h) })).find((d) => d.det);
  const role: ModelRole = file.role ?? (detectorOutput ? 'detector' : floatOutputs.length > 1 ? 'embedder' : 'embedder');
  if (!file.role) notes.push(`role "${role}" guessed from the output shapes; pass role to choose (embedder, classifier, detector)`);

  const base = {
    name: file.name,
    description: file.description ?? `Registered model (${g.producer || 'unknown producer'}, ${g.nodes} nodes).`,
    role,
    file: `${file.sha256}.onnx`,
    sha256: file.sha256,
    bytes: file.bytes,
    license: 'as declared by the owner who registered it',
    source: { notes: 'Uploaded and registered through Winnow; stored in the bucket under models/<sha256>.' },
  };
  let manifest: ModelManifest;
  let labels: string[] | undefined;
  if (role === 'detector') {
    if (!detectorOutput?.det) {
      throw badRequest(
        `no output looks like a YOLO detector head ([1, N, 5 + classes] for YOLOv5/YOLOX or [1, 4 + classes, N] for YOLOv8); outputs: ${g.outputs.map(show).join('; ')}`,
        { field: 'role' },
      );
    }
    const { o, det } = detectorOutput;
    const yolox = det.decode === 'yolox';
    labels = det.classes === 80 ? [...COCO80] : Array.from({ length: det.classes }, (_, i) => `class ${i}`);
    notes.push(`output ${show(o)} read as ${det.decode} with ${det.classes} classes${det.classes === 80 ? ' (COCO-80 names proposed)' : ' (generic class names: give the real ones)'}`);
    notes.push(yolox ? 'YOLOX pre-processing proposed: BGR, raw 0-255, letterbox at top-left padded with 114' : 'Ultralytics pre-processing proposed: RGB scaled to 0-1, letterbox padded with 114');
    manifest = {
      ...base,
      input: { name: input.name, shape: [typeof batch === 'number' ? batch : 'batch', 3, h, w], layout: 'NCHW', dtype: 'float32' },
      preprocess: {
        resize: 'letterbox-top-left',
        size: h,
        padValue: 114,
        kernel: 'linear',
        channels: yolox ? 'BGR' : 'RGB',
        scale: yolox ? 1 : 1 / 255,
        mean: [0, 0, 0],
        std: [1, 1, 1],
      },
      outputs: [
        yolox
          ? { name: o.name, decode: 'yolox', strides: det.strides!, classes: det.classes, scoreThreshold: 0.3, iouThreshold: 0.45, maxDetections: 50, labels: LABELS_PLACEHOLDER }
          : { name: o.name, decode: det.decode as 'yolov5' | 'yolov8', classes: det.classes, scoreThreshold: 0.3, iouThreshold: 0.45, maxDetections: 50, labels: LABELS_PLACEHOLDER },
      ],
      maxBatch: 1,
    };
  } else {
    const vectors = floatOutputs.filter((o) => {
      const per = perImage(o);
      return (per.length === 1 || per.length === 2) && typeof per[per.length - 1] === 'number';
    });
    if (vectors.length === 0) {
      throw badRequest(`no output is a vector per image ([batch, dims] or [batch, tokens, dims]); outputs: ${g.outputs.map(show).join('; ')}`, { field: 'file' });
    }
    const out = vectors[0];
    const per = perImage(out);
    const dims = per[per.length - 1] as number;
    if (role === 'classifier') {
      labels = dims === 80 ? [...COCO80] : Array.from({ length: dims }, (_, i) => `class ${i}`);
      notes.push(`output ${show(out)} read as ${dims} class logits (softmax); give the class names`);
    } else {
      notes.push(`output ${show(out)} read as a ${dims}-d embedding${per.length === 2 ? ' (token 0, e.g. a ViT CLS token)' : ''}`);
    }
    notes.push(`ImageNet pre-processing proposed (shorter side to ${Math.round((h * 256) / 224)}, centre crop ${h}, RGB / 255, ImageNet mean and std): check it matches how the model was trained`);
    manifest = {
      ...base,
      input: { name: input.name, shape: [typeof batch === 'number' ? batch : 'batch', 3, h, w], layout: 'NCHW', dtype: 'float32' },
      preprocess: {
        resize: 'shorter-side-then-center-crop',
        resizeTo: Math.round((h * 256) / 224),
        crop: h,
        kernel: 'linear',
        channels: 'RGB',
        scale: 1 / 255,
        mean: [0.485, 0.456, 0.406],
        std: [0.229, 0.224, 0.225],
      },
      outputs: [
        role === 'classifier'
          ? { name: out.name, decode: 'logits-softmax', classes: dims, labels: LABELS_PLACEHOLDER }
          : { name: out.name, decode: 'embedding', dims, ...(per.length === 2 ? { token: 0 } : {}) },
      ],
      maxBatch: typeof batch === 'number' ? batch : 8,
    };
  }
  return { manifest, ...(labels ? { labels } : {}), notes };
}

/** The graph's input with its dynamic dimensions fixed by the owner; fixed ones must stay as they are. */
function fixInput(input: TensorInfo, shape: Dim[]): TensorInfo {
  if (shape.length !== input.shape.length) {
    throw badRequest(`wrong input rank: input ${show(input)} has ${input.shape.length} dimensions, the given shape [${shape.join(', ')}] has ${shape.length}`, { field: 'input.shape' });
  }
  shape.forEach((d, i) => {
    const g = input.shape[i];
    if (typeof g === 'number' && d !== g) throw badRequest(`input.shape[${i}]: the model fixes it at ${g}, not ${d}`, { field: 'input.shape' });
  });
  return { ...input, shape, dynamic: shape.flatMap((d, i) => (typeof d === 'string' ? [i] : [])) };
}

/** Filled in at registration with the content-addressed labels file (registry.ts). */
const LABELS_PLACEHOLDER = { file: 'labels.json', sha256: null };

/** Which detector decode fits one image's output shape, for an input of `side` pixels. */
export function detectorShape(per: Dim[], side: number): { decode: (typeof DETECTOR_DECODES)[number]; classes: number; strides?: number[] } | undefined {
  if (per.length !== 2 || typeof per[0] !== 'number' || typeof per[1] !== 'number') return undefined;
  const [a, b] = per;
  const strides = [8, 16, 32];
  const grid = strides.reduce((n, s) => n + (side % s === 0 ? (side / s) ** 2 : NaN), 0);
  // YOLOX: one row per anchor point of the stride 8/16/32 grids; YOLOv5 has 3 anchors per point, so 3x as many.
  if (a === grid && b > 5) return { decode: 'yolox', classes: b - 5, strides };
  if (a > b && b > 5) return { decode: 'yolov5', classes: b - 5 };
  if (b > a && a > 4) return { decode: 'yolov8', classes: a - 4 };
  return undefined;
}
