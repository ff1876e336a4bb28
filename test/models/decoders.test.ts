// One decoder family for YOLO heads. The real YOLOX-Nano output on a real photo is rewritten into the YOLOv5 layout
// ([N, 85]: boxes in input pixels, objectness, class scores) and the YOLOv8 layout ([84, N]: the same boxes as columns,
// class scores already multiplied by objectness, no objectness): all three decodes must give the same boxes. Then the
// shapes Winnow reads a head from, and the class map that renames and drops classes.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../functions/vision/decode.js';
import { decodeDetections, type Detection } from '../../functions/vision/detect.js';
import { loadManifest, type ModelManifest, type Yolov5Output, type Yolov8Output, type YoloxOutput } from '../../functions/vision/manifest.js';
import { detectorShape } from '../../functions/vision/onnx-inspect.js';
import { ModelRunner } from '../../functions/vision/onnx.js';
import { imageTensor, type ImageTensor } from '../../functions/vision/preprocess.js';
import { FLOWERS, MODELS } from '../support/paths.js';

const COCO = JSON.parse(await readFile(path.join(MODELS, 'coco80.json'), 'utf8')) as string[];

describe('YOLO decoder family on a real YOLOX output', () => {
  let manifest: ModelManifest;
  let yolox: YoloxOutput;
  let raw: Float32Array;
  let tensor: ImageTensor;
  let image: { width: number; height: number };
  const opts = { scoreThreshold: 0.3, iouThreshold: 0.45, maxDetections: 50 };

  beforeAll(async () => {
    manifest = await loadManifest('yolox-nano');
    yolox = manifest.outputs[0] as YoloxOutput;
    const decoded = await decodeImage(await readFile(path.join(FLOWERS, 'tulips/13530786873_0d34880300_n.jpg')));
    image = decoded;
    tensor = await imageTensor(decoded, manifest.preprocess);
    const runner = await ModelRunner.open(manifest, path.join(MODELS, manifest.file));
    raw = (await runner.run(tensor.data.slice()))[yolox.name].data;
  });

  /** YOLOX rows rewritten with decoded boxes (input pixels): the YOLOv5 layout. */
  function asYolov5(): Float32Array {
    const out = new Float32Array(raw);
    let row = 0;
    for (const stride of yolox.strides) {
      const grid = tensor.side / stride;
      for (let gy = 0; gy < grid; gy++) {
        for (let gx = 0; gx < grid; gx++, row++) {
          const at = row * 85;
          out[at] = (raw[at] + gx) * stride;
          out[at + 1] = (raw[at + 1] + gy) * stride;
          out[at + 2] = Math.exp(raw[at + 2]) * stride;
          out[at + 3] = Math.exp(raw[at + 3]) * stride;
        }
      }
    }
    return out;
  }

  /** The YOLOv8 layout: 84 rows (4 box values, 80 scores = objectness x class probability) by N columns. */
  function asYolov8(v5: Float32Array): Float32Array {
    const n = v5.length / 85;
    const out = new Float32Array(84 * n);
    for (let b = 0; b < n; b++) {
      for (let k = 0; k < 4; k++) out[k * n + b] = v5[b * 85 + k];
      for (let c = 0; c < 80; c++) out[(4 + c) * n + b] = v5[b * 85 + 4] * v5[b * 85 + 5 + c];
    }
    return out;
  }

  const brief = (ds: Detection[]) => ds.map((d) => ({ box: d.box, name: d.name, score: Number(d.score.toFixed(5)) }));

  it('decodes the same boxes from the YOLOX, YOLOv5 and YOLOv8 layouts', () => {
    const n = raw.length / 85;
    const fromYolox = decodeDetections({ data: raw, dims: [n, 85] }, yolox, COCO, tensor, image, opts);
    expect(fromYolox.length).toBeGreaterThanOrEqual(1);
    expect(fromYolox.every((d) => d.name === 'apple')).toBe(true);
    const common = { classes: 80, scoreThreshold: 0.3, iouThreshold: 0.45, maxDetections: 50, labels: yolox.labels };
    const v5: Yolov5Output = { name: 'output0', decode: 'yolov5', ...common };
    const v8: Yolov8Output = { name: 'output0', decode: 'yolov8', ...common };
    const v5data = asYolov5();
    // With and without the batch dimension.
    expect(brief(decodeDetections({ data: v5data, dims: [1, n, 85] }, v5, COCO, tensor, image, opts))).toEqual(brief(fromYolox));
    expect(brief(decodeDetections({ data: asYolov8(v5data), dims: [84, n] }, v8, COCO, tensor, image, opts))).toEqual(brief(fromYolox));
  });

  it('maps classes onto the project by the class map and drops the rest', () => {
    const n = raw.length / 85;
    const mapped = decodeDetections({ data: raw, dims: [n, 85] }, yolox, COCO, tensor, image, { ...opts, classMap: { apple: 'fruit' } });
    expect(mapped.length).toBeGreaterThanOrEqual(1);
    expect(new Set(mapped.map((d) => d.name))).toEqual(new Set(['fruit']));
    expect(decodeDetections({ data: raw, dims: [n, 85] }, yolox, COCO, tensor, image, { ...opts, classMap: { vase: 'vase' } })).toEqual([]);
  });

  it('says which shape it expected when the output does not fit the manifest', () => {
    const v8: Yolov8Output = { name: 'out', decode: 'yolov8', classes: 80, scoreThreshold: 0.3, iouThreshold: 0.45, maxDetections: 50, labels: yolox.labels };
    expect(() => decodeDetections({ data: new Float32Array(85 * 10), dims: [10, 85] }, v8, COCO, tensor, image, opts)).toThrow(
      /yolov8 output "out" has shape \[10, 85\]; expected \[84, N\] for 80 classes/,
    );
  });
});

describe('reading the head from output shapes', () => {
  it('tells YOLOX, YOLOv5 and YOLOv8 heads apart', () => {
    expect(detectorShape([3549, 85], 416)).toEqual({ decode: 'yolox', classes: 80, strides: [8, 16, 32] });
    expect(detectorShape([25200, 85], 640)).toEqual({ decode: 'yolov5', classes: 80 });
    expect(detectorShape([84, 8400], 640)).toEqual({ decode: 'yolov8', classes: 80 });
    expect(detectorShape([6, 8400], 640)).toEqual({ decode: 'yolov8', classes: 2 });
    expect(detectorShape([1280], 224)).toBeUndefined();
    expect(detectorShape(['batch', 85], 640)).toBeUndefined();
  });
});
