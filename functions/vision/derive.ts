// Model files made by code in this repository rather than downloaded, each from a pinned public file (or from
// nothing): `npm run models:fetch` runs them, and the manifests record the sha256 of what they produce. Each recipe
// is a pure function of its input bytes (protobuf encoding is deterministic for a given message), so every machine
// gets the same bytes and the manifest's sha256 checks the result.

import onnxProto, { type onnx as OnnxNamespace } from 'onnx-proto';
import { WinnowError } from '../domain/errors.js';

// onnx-proto is a CommonJS bundle (protobufjs) whose default export holds the namespace. Imported statically so that
// esbuild puts it in the Lambda bundles (a require made at run time is not bundled: the API function failed to start).
const { onnx } = onnxProto as unknown as { onnx: typeof OnnxNamespace };

export interface Derivation {
  /** What the recipe does, for logs and errors. */
  describe: string;
  /** Whether it reads the file of the manifest named in `source.derivedFrom`. */
  needsBase: boolean;
  derive(base?: Uint8Array): Uint8Array;
}

/** The 1280-d pooled tensor in mobilenetv2-12-int8.onnx, uint8-quantized, with its scale and zero point. */
const POOLED = { tensor: '472_quantized', scale: '464_scale', zeroPoint: '464_zero_point', dims: 1280 } as const;
const FEATURES_DOC =
  'ONNX Model Zoo mobilenetv2-12-int8 with an added output "features" = DequantizeLinear of the global-average-pooled 1280-d tensor (472_quantized).';

/**
 * mobilenetv2-12-int8.onnx plus one DequantizeLinear node turning the global-average-pooled tensor (after its
 * reshape) into float32, exposed as a second graph output `features` [batch_size, 1280]. Weights and every existing
 * node are untouched, so `output` is unchanged.
 */
export function deriveMobilenetFeatures(base: Uint8Array): Uint8Array {
  let model: OnnxNamespace.ModelProto;
  try {
    model = onnx.ModelProto.decode(base);
  } catch (err) {
    throw new WinnowError('bad_request', `the base model is not a readable ONNX file: ${(err as Error).message}`);
  }
  const graph = model.graph;
  if (!graph?.node?.length || !graph.output?.length) throw new WinnowError('bad_request', 'the base model has no graph');
  const nodes = graph.node;
  const outputs = graph.output;
  const produced = new Set(nodes.flatMap((n) => n.output ?? []));
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  if (!produced.has(POOLED.tensor)) throw new WinnowError('bad_request', `the base model has no tensor "${POOLED.tensor}" to take features from`);
  for (const name of [POOLED.scale, POOLED.zeroPoint]) {
    if (!initializers.has(name)) throw new WinnowError('bad_request', `the base model has no initializer "${name}"`);
  }
  if (outputs.some((o) => o.name === 'features')) {
    throw new WinnowError('bad_request', 'the base model already has a "features" output (it is the derived file, not the base)');
  }
  const batch = outputs[0]?.type?.tensorType?.shape?.dim?.[0]?.dimParam || 'batch_size';
  model.docString = FEATURES_DOC;
  nodes.push(
    onnx.NodeProto.create({
      input: [POOLED.tensor, POOLED.scale, POOLED.zeroPoint],
      output: ['features'],
      name: 'features_dequant',
      opType: 'DequantizeLinear',
    }),
  );
  outputs.push(
    onnx.ValueInfoProto.create({
      name: 'features',
      type: {
        tensorType: {
          elemType: onnx.TensorProto.DataType.FLOAT,
          shape: { dim: [{ dimParam: batch }, { dimValue: POOLED.dims }] },
        },
      },
    }),
  );
  return onnx.ModelProto.encode(model).finish();
}

/** The 80 COCO 2017 category names in YOLOX class-index order (Megvii YOLOX `coco_classes.py`). */
export const COCO80 = [
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
  'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow',
  'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee',
  'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle',
  'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange',
  'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant', 'bed',
  'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone', 'microwave', 'oven',
  'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors', 'teddy bear', 'hair drier', 'toothbrush',
] as const;

/** Recipes by the name a manifest gives in `source.derivation`. */
export const DERIVATIONS: Record<string, Derivation> = {
  'mobilenetv2-features': {
    describe: 'adds the 1280-d "features" output (one DequantizeLinear node) to the base model',
    needsBase: true,
    derive: (base) => deriveMobilenetFeatures(base!),
  },
  'coco80-labels': {
    describe: 'writes the 80 COCO class names in YOLOX order as JSON',
    needsBase: false,
    derive: () => new TextEncoder().encode(`${JSON.stringify(COCO80)}\n`),
  },
};
