// Active learning on the real local stack: images embedded at ingest, a cold-start ranking before any label,
// a trained model after labels of two classes, suggestions and live error on what is served next.

import { cp, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importFolder } from '../../functions/cli/import.js';
import { localTarget } from '../../functions/cli/stack-client.js';
import type { LocalStack } from '../../functions/local/stack.js';
import { FLOWERS } from '../support/paths.js';
import { devNull } from '../support/streams.js';
import { apiClient, startTestStack, tempDir } from '../support/stack.js';

const CLASSES = ['daisy', 'sunflowers'];
const PER_CLASS = 15;

describe('active learning on the local stack', () => {
  let stack: LocalStack | undefined;
  afterAll(async () => stack?.close());

  it('ranks before labels, trains on labels, and measures itself on every new label', async () => {
    const dataDir = await tempDir('al');
    const photos = await tempDir('al-photos');
    for (const c of CLASSES) {
      await mkdir(path.join(photos, c));
      for (const f of (await readdir(path.join(FLOWERS, c))).filter((f) => f.endsWith('.jpg')).slice(0, PER_CLASS)) {
        await cp(path.join(FLOWERS, c, f), path.join(photos, c, f));
      }
    }
    // Retrain only when asked, so the test controls when the model changes.
    stack = await startTestStack(dataDir, { trainer: { everyLabels: 1_000_000, afterMs: 3_600_000 } });
    await importFolder(await localTarget(dataDir), { dir: photos, project: 'garden', classes: CLASSES, concurrency: 4, wait: true, out: devNull() });
    const api = apiClient(stack.url, 'ann');

    await stack.trainer.flush('garden');
    let next = await api('GET', '/api/projects/garden/next?count=1');
    expect(next.json.model.state).toBe('cold-start');
    expect(next.json.model.message).toMatch(/not trained yet/);

    const truth = (key: string) => (key.includes('/daisy/') ? 0 : 1);
    const seen = new Set<number>();
    let labeled = 0;
    const label = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const res = await api('GET', '/api/projects/garden/next?count=1');
        const { sample, image } = res.json.samples[0];
        const saved = await api('POST', `/api/projects/garden/samples/${sample.sampleId}/annotations`, {
          version: sample.version, requestId: `al-${sample.sampleId}`, classIndex: truth(image.key),
        });
        expect(saved.status).toBe(201);
        seen.add(truth(image.key));
        labeled++;
      }
    };
    await label(6);
    while (seen.size < 2) await label(1); // a model needs labels of both classes
    await stack.trainer.flush('garden');
    next = await api('GET', '/api/projects/garden/next?count=1');
    expect(next.json.model).toMatchObject({ state: 'trained', labels: labeled });
    const served = next.json.samples[0];
    expect(served.sample.suggestions[0].name).toMatch(/daisy|sunflowers/);
    expect(served.sample.suggestions[0].probability).toBeGreaterThan(0);

    await label(10);
    const quality = await api('GET', '/api/projects/garden/quality');
    // Every label was scored: the served ones in the served-sample error, the audit draws (about 1 in 10) in the
    // accuracy estimate.
    expect(quality.json.count + quality.json.accuracy.n).toBe(10);
    expect(quality.json.points).toHaveLength(quality.json.count);
    const last = quality.json.points[quality.json.count - 1];
    if (last) expect(last.runningErrorRate).toBe(quality.json.errorRate);
    expect(quality.json.points.every((p: { squaredError: number }) => p.squaredError >= 0 && p.squaredError <= 2)).toBe(true);
    expect(quality.json).not.toHaveProperty('estimatedAccuracy');

    const similar = await api('GET', `/api/projects/garden/samples/${served.sample.sampleId}/similar?k=5`);
    expect(similar.json.items).toHaveLength(5);
    expect(similar.json.items[0].similarity).toBeGreaterThan(similar.json.items[4].similarity - 1e-9);
    await stack.trainer.flush('garden');
    const review = await api('GET', '/api/projects/garden/review/mislabeled');
    expect(review.status).toBe(200);
    expect(Array.isArray(review.json.items)).toBe(true);
  });
});
