// Writes a tiny but real ONNX model (protobuf encoded by hand) with the interface of a ViT embedder export:
// input `pixel_values` [batch, 3, 224, 224] -> output `last_hidden_state` [batch, tokens, dims], whose values are
// simply the first tokens*dims input floats. It stands in for DINOv2 (whose weights cannot be brought onto these
// machines) to prove that its manifest runs through the product's real loading, pre-processing and ORT code.

const varint = (n: number | bigint): number[] => {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
};
const key = (field: number, wire: number) => varint((field << 3) | wire);
const num = (field: number, n: number | bigint) => [...key(field, 0), ...varint(n)];
const bytes = (field: number, b: Uint8Array | number[]) => [...key(field, 2), ...varint(b.length), ...b];
const str = (field: number, s: string) => bytes(field, [...Buffer.from(s, 'utf8')]);

const int64Tensor = (name: string, values: number[]) => {
  const raw = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => raw.writeBigInt64LE(BigInt(v), i * 8));
  // TensorProto: dims=1, data_type=2 (7 = INT64), name=8, raw_data=9
  return [...num(1, values.length), ...num(2, 7), ...str(8, name), ...bytes(9, [...raw])];
};

const node = (op: string, inputs: string[], outputs: string[]) => [
  ...inputs.flatMap((i) => str(1, i)),
  ...outputs.flatMap((o) => str(2, o)),
  ...str(3, `${op}_${outputs[0]}`),
  ...str(4, op),
];

/** ValueInfoProto for a float tensor; string dims are symbolic (dynamic). */
const valueInfo = (name: string, shape: (number | string)[]) => {
  const dims = shape.flatMap((d) => bytes(1, typeof d === 'number' ? num(1, d) : str(2, d)));
  const tensorType = [...num(1, 1), ...bytes(2, dims)]; // elem_type FLOAT, shape
  return [...str(1, name), ...bytes(2, bytes(1, tensorType))];
};

export function vitLikeModel(tokens: number, dims: number): Uint8Array {
  const graph = [
    ...bytes(1, node('Reshape', ['pixel_values', 'flat_shape'], ['flat'])),
    ...bytes(1, node('Slice', ['flat', 'starts', 'ends', 'axes'], ['head'])),
    ...bytes(1, node('Reshape', ['head', 'seq_shape'], ['last_hidden_state'])),
    ...str(2, 'vit_like'),
    ...bytes(5, int64Tensor('flat_shape', [0, -1])),
    ...bytes(5, int64Tensor('starts', [0])),
    ...bytes(5, int64Tensor('ends', [tokens * dims])),
    ...bytes(5, int64Tensor('axes', [1])),
    ...bytes(5, int64Tensor('seq_shape', [0, tokens, dims])),
    ...bytes(11, valueInfo('pixel_values', ['batch', 3, 224, 224])),
    ...bytes(12, valueInfo('last_hidden_state', ['batch', tokens, dims])),
  ];
  const model = [...num(1, 8), ...str(2, 'winnow-test'), ...bytes(7, graph), ...bytes(8, [...str(1, ''), ...num(2, 13)])];
  return Uint8Array.from(model);
}
