// A label is answered once its annotation record is claimed; its head and the labeler's progress complete just
// after (domain/label-completions.ts). Here `npm start` is SIGKILLed in that moment for every label (the fault switch
// holds each completion forever, as if the process always died right after answering), and the next start on the
// same data folder must show every answered label: in the progress, on its sample, in the labeler's count and undo.

import { cp, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { importFolder } from '../../functions/cli/import.js';
import { localTarget } from '../../functions/cli/stack-client.js';
import { exited, portIsFree, startNpm, type StartedProcess } from '../support/npm-start.js';
import { FLOWERS } from '../support/paths.js';
import { apiClient, tempDir, waitFor } from '../support/stack.js';

const PHOTOS = ['daisy/100080576_f52e8ee070_n.jpg', 'daisy/9158041313_7a6a102f7a_n.jpg', 'roses/10090824183_d02c613f10_m.jpg'];

describe('labels answered right before a crash', () => {
  const started: StartedProcess[] = [];
  afterEach(() => {
    for (const s of started.splice(0)) s.child.kill('SIGKILL');
  });

  it('are on their samples, in the progress and in the labeler count after npm start is SIGKILLed and started again', async () => {
    const dataDir = await tempDir('journal-data');
    const photos = await tempDir('journal-photos');
    for (const rel of PHOTOS) {
      await mkdir(path.join(photos, path.dirname(rel)), { recursive: true });
      await cp(path.join(FLOWERS, rel), path.join(photos, rel));
    }
    const first = await startNpm(dataDir, [], { WINNOW_FAULT_HOLD_LABELS: '1' });
    started.push(first);
    expect(first.output()).toContain('WINNOW_FAULT_HOLD_LABELS=1');
    const report = await importFolder(await localTarget(dataDir), {
      dir: photos, project: 'flowers', classes: ['daisy', 'roses'], concurrency: 3, wait: true, out: new PassThrough() as never,
    });
    expect(report.uploaded).toBe(3);

    const ann = apiClient(first.url, 'ann');
    const answered: Record<string, number> = {};
    for (;;) {
      const next = await ann('GET', '/api/projects/flowers/next?count=1');
      if (next.json.samples.length === 0) break;
      const { sample, image } = next.json.samples[0];
      const classIndex = image.key.includes('/daisy/') ? 0 : 1;
      const res = await ann('POST', `/api/projects/flowers/samples/${sample.sampleId}/annotations`, {
        version: sample.version, requestId: `crash-${sample.sampleId}`, classIndex,
      });
      expect(res.status).toBe(201);
      expect(res.json.sample).toMatchObject({ version: sample.version + 1, labeledBy: ['ann'] });
      answered[sample.sampleId] = classIndex;
    }
    expect(Object.keys(answered)).toHaveLength(3);
    // The crash window is real: no sample head and no count has the answered labels yet.
    expect((await ann('GET', '/api/projects/flowers/progress')).json).toMatchObject({ labeled: 0 });
    for (const sampleId of Object.keys(answered)) {
      expect((await ann('GET', `/api/projects/flowers/samples/${sampleId}`)).json.sample.label).toBeUndefined();
    }

    const info = JSON.parse(await readFile(path.join(dataDir, 'stack.json'), 'utf8')) as { dynamoEndpoint: string; s3Endpoint: string };
    first.child.kill('SIGKILL');
    await exited(first.child);
    // Its emulators go with it: their ports (and the data folder's locks) are free again.
    await waitFor(async () => (await Promise.all([info.dynamoEndpoint, info.s3Endpoint].map((u) => portIsFree(Number(new URL(u).port))))).every(Boolean), 'the emulators to end', 10_000);

    const second = await startNpm(dataDir);
    started.push(second);
    expect(second.output()).toContain('labels: completed 3 label(s) claimed before the last stop');
    const after = apiClient(second.url, 'ann');
    const progress = await after('GET', '/api/projects/flowers/progress');
    expect(progress.json).toMatchObject({ total: 3, labeled: 3, me: { total: 3 }, byClass: [{ name: 'daisy', count: 2 }, { name: 'roses', count: 1 }] });
    for (const [sampleId, classIndex] of Object.entries(answered)) {
      const { json } = await after('GET', `/api/projects/flowers/samples/${sampleId}`);
      expect(json.sample.label.confidences[classIndex]).toBe(1);
    }
    // The labeler's own history has them, so Backspace undoes the last one.
    const undo = await after('POST', '/api/projects/flowers/undo', { requestId: 'undo-after-crash' });
    expect(undo.status).toBe(200);
    expect((await after('GET', '/api/projects/flowers/progress')).json).toMatchObject({ labeled: 2, me: { total: 2 } });
  });
});
