// A classifier brought as a file: the ONNX Model Zoo's MobileNetV2 (from ../shared/models) inspected with role
// classifier, given its ImageNet class names, and tried on a daisy photo: the trial shows its top classes. Runs the
// model lab on the in-memory stores (the API routes around it are covered by the other tests in this folder).

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { MODEL_LAYOUT } from '../../functions/domain/models.js';
import { createModelLab } from '../../functions/vision/model-lab.js';
import { ModelRegistry } from '../../functions/vision/registry.js';
import { FLOWERS, MODELS } from '../support/paths.js';
import { tempDir } from '../support/stack.js';

it('proposes a 1000-class softmax head for a classifier and shows its top classes on a photo', async () => {
  const stores = createMemoryStores();
  const lab = createModelLab({ stores, registry: new ModelRegistry(stores.blobs, await tempDir('byo-classifier')) });
  const file = new Uint8Array(await readFile(path.join(MODELS, 'mobilenetv2-12-int8.onnx')));
  const sha256 = createHash('sha256').update(file).digest('hex');
  const inspected = await lab.inspect(file, { name: 'zoo-mobilenet', sha256, role: 'classifier' });
  expect(inspected.proposal.manifest).toMatchObject({
    role: 'classifier',
    input: { name: 'input', shape: ['batch', 3, 224, 224] },
    preprocess: { resize: 'shorter-side-then-center-crop', resizeTo: 256, crop: 224, channels: 'RGB' },
    outputs: [{ name: 'output', decode: 'logits-softmax', classes: 1000 }],
    maxBatch: 8,
  });
  expect(inspected.proposal.labels).toHaveLength(1000);
  await stores.blobs.put(MODEL_LAYOUT.file(sha256), file, 'application/octet-stream');

  const labels = JSON.parse(await readFile(path.join(MODELS, 'imagenet-simple-labels.json'), 'utf8')) as string[];
  const photo = new Uint8Array(await readFile(path.join(FLOWERS, 'daisy/100080576_f52e8ee070_n.jpg')));
  const { trial } = await lab.trial({ manifest: inspected.proposal.manifest, labels }, [{ imageId: 'daisy1', bytes: photo }], { projectId: 'p' });
  expect(trial.items[0].top).toHaveLength(3);
  expect(trial.items[0].top![0].name).toBe('daisy');
  expect(trial.items[0].top![0].probability).toBeGreaterThan(0.5);

  // Class names that do not match the head are refused with the counts.
  await expect(lab.trial({ manifest: inspected.proposal.manifest, labels: ['a', 'b'] }, [], { synthetic: true })).rejects.toThrow(
    'labels: 2 class names given, the model\'s output has 1000 classes',
  );
});
