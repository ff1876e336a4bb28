// Small ONNX models built in the tests with onnx-proto (nothing downloaded, nothing stored in the repo): a 64-d
// conv/pool/linear embedder, and the broken or hostile files users send (NaN outputs, wrong rank, dynamic sizes,
// an operator no runtime knows, a model far too slow for its timeout).

import { createRequire } from 'node:module';
import type { onnx as OnnxNamespace } from 'onnx-proto';

const { onnx } = createRequire(import.meta.url)('onnx-proto') as { onnx: typeof OnnxNamespace };
const FLOAT = onnx.TensorProto.DataType.FLOAT;

type Dim = number | string;
const valueInfo = (name: string, shape: Dim[]) =>
  onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });

const tensor = (name: string, dims: number[], values: ArrayLike<number>) =>
  onnx.TensorProto.create({ name, dims, dataType: FLOAT, rawData: new Uint8Array(new Float32Array(values).buffer) });

const node = (opType: string, input: string[], output: string[], attrs: Record<string, number | number[]> = {}) =>
  onnx.NodeProto.create({
    opType,
    input,
    output,
    name: `${opType}_${output[0]}`,
    attribute: Object.entries(attrs).map(([name, v]) =>
      Array.isArray(v)
        ? onnx.AttributeProto.create({ name, ints: v, type: onnx.AttributeProto.AttributeType.INTS })
        : onnx.AttributeProto.create({ name, i: v, type: onnx.AttributeProto.AttributeType.INT }),
    ),
  });

/** Deterministic pseudo-random weights in [-scale, scale]. */
function weights(n: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

function model(nodes: OnnxNamespace.INodeProto[], inputs: OnnxNamespace.IValueInfoProto[], outputs: OnnxNamespace.IValueInfoProto[], init: OnnxNamespace.ITensorProto[] = []): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 7,
      producerName: 'winnow-tests',
      opsetImport: [{ domain: '', version: 13 }],
      graph: { name: 'g', node: nodes, input: inputs, output: outputs, initializer: init },
    }),
  ).finish();
}

/**
 * An embedder of another dimension than the shipped one: image [batch, 3, side, side] -> 3x3 conv (16 filters,
 * stride 2) -> ReLU -> global average pool -> linear 16 -> `dims` -> output "embedding" [batch, dims].
 */
export function tinyEmbedder(dims = 64, side = 32, seed = 7): Uint8Array {
  return model(
    [
      node('Conv', ['image', 'conv_w', 'conv_b'], ['conv'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }),
      node('Relu', ['conv'], ['relu']),
      node('GlobalAveragePool', ['relu'], ['pooled']),
      node('Flatten', ['pooled'], ['flat'], { axis: 1 }),
      node('Gemm', ['flat', 'fc_w', 'fc_b'], ['embedding']),
    ],
    [valueInfo('image', ['batch', 3, side, side])],
    [valueInfo('embedding', ['batch', dims])],
    [
      tensor('conv_w', [16, 3, 3, 3], weights(16 * 27, seed, 0.5)),
      tensor('conv_b', [16], weights(16, seed + 1, 0.1)),
      tensor('fc_w', [16, dims], weights(16 * dims, seed + 2, 0.5)),
      tensor('fc_b', [dims], weights(dims, seed + 3, 0.1)),
    ],
  );
}

/** Pools the image to [batch, 3] and multiplies by NaN: every output is NaN. */
export function nanEmbedder(side = 32): Uint8Array {
  return model(
    [node('GlobalAveragePool', ['image'], ['pooled']), node('Flatten', ['pooled'], ['flat'], { axis: 1 }), node('Mul', ['flat', 'nan'], ['embedding'])],
    [valueInfo('image', [1, 3, side, side])],
    [valueInfo('embedding', [1, 3])],
    [tensor('nan', [3], [Number.NaN, Number.NaN, Number.NaN])],
  );
}

/** Input of rank 3 ([1, 3, 224]): not an image tensor. */
export function wrongRank(): Uint8Array {
  return model([node('Relu', ['signal'], ['out'])], [valueInfo('signal', [1, 3, 224])], [valueInfo('out', [1, 3, 224])]);
}

/** Height and width left open ([batch, 3, height, width]). */
export function dynamicSize(): Uint8Array {
  return model(
    [node('GlobalAveragePool', ['image'], ['pooled']), node('Flatten', ['pooled'], ['embedding'], { axis: 1 })],
    [valueInfo('image', ['batch', 3, 'height', 'width'])],
    [valueInfo('embedding', ['batch', 3])],
  );
}

/** A well-formed ONNX file with an operator onnxruntime does not have: it parses but does not load. */
export function unknownOperator(): Uint8Array {
  return model([node('NoSuchWinnowOp', ['image'], ['embedding'])], [valueInfo('image', [1, 3, 32, 32])], [valueInfo('embedding', [1, 8])]);
}

/** Several 64-channel 3x3 convolutions over a 384x384 image: seconds per image on one core. */
export function slowEmbedder(side = 384, layers = 6): Uint8Array {
  const nodes = [node('Conv', ['image', 'w0'], ['c0'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })];
  const init = [tensor('w0', [64, 3, 3, 3], weights(64 * 27, 1, 0.1))];
  for (let i = 1; i < layers; i++) {
    nodes.push(node('Conv', [`c${i - 1}`, `w${i}`], [`c${i}`], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }));
    init.push(tensor(`w${i}`, [64, 64, 3, 3], weights(64 * 576, i + 1, 0.02)));
  }
  nodes.push(node('GlobalAveragePool', [`c${layers - 1}`], ['pooled']), node('Flatten', ['pooled'], ['embedding'], { axis: 1 }));
  return model(nodes, [valueInfo('image', [1, 3, side, side])], [valueInfo('embedding', [1, 64])], init);
}
