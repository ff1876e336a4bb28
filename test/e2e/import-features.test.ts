// Bring-your-own features on the real local stack, through the command a user runs: a references CSV and a .npy
// matrix over real flower photos become samples (one of them a box), trainer vectors under the user's model,
// and labels; the box is served for labeling, the trainer ranks with the user's vectors, and a re-run is a no-op.

import { execFile } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { planFeatureImport, runFeatureImport } from '../../functions/cli/import-features.js';
import { importFolder } from '../../functions/cli/import.js';
import { localTarget } from '../../functions/cli/stack-client.js';
import { boxSampleId } from '../../functions/domain/import-features.js';
import { imageIdFor } from '../../functions/domain/ingest.js';
import type { LocalStack } from '../../functions/local/stack.js';
import { FLOWERS, REPO } from '../support/paths.js';
import { devNull } from '../support/streams.js';
import { apiClient, startTestStack, tempDir } from '../support/stack.js';

const DIMS = 8;
const MODEL = 'byo-test';

const winnow = (args: string[]) =>
  promisify(execFile)(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', path.join(REPO, 'functions/cli/main.ts'), ...args], { cwd: REPO })
    .then((r) => ({ code: 0, out: r.stdout + r.stderr }))
    .catch((e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }));

/** A tiny float32 `.npy` writer (NumPy format 1.0, C order). */
function npy(rows: number[][]): Buffer {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows.length}, ${rows[0].length}), }`;
  header = header.padEnd(Math.ceil((header.length + 11) / 64) * 64 - 11) + '\n';
  const body = Buffer.from(new Float32Array(rows.flat()).buffer);
  return Buffer.concat([Buffer.from([0x93]), Buffer.from('NUMPY'), Buffer.from([1, 0, header.length & 0xff, header.length >> 8]), Buffer.from(header), body]);
}

/** Five daisies and five roses; features that separate the two classes; two labels each; one box. */
async function featureFiles(dir: string) {
  const pick = async (c: string) => (await readdir(path.join(FLOWERS, c))).filter((f) => f.endsWith('.jpg')).slice(0, 5).map((f) => `${c}/${f}`);
  const files = [...(await pick('daisy')), ...(await pick('roses'))];
  const vector = (cls: number, i: number) => Array.from({ length: DIMS }, (_, k) => (k === cls ? 1 : 0) + 0.05 * Math.sin(i * 7 + k));
  const matrix = files.map((f, i) => vector(f.startsWith('daisy') ? 0 : 1, i));
  matrix.push(vector(2, 99)); // the box: something else entirely
  const lines = ['filename,bbox,annotation,feat_idx'];
  files.forEach((f, i) => lines.push(`${f},,${i % 5 < 2 ? f.split('/')[0] : ''},${i}`));
  lines.push(`${files[0]},10-20-60-90,,${files.length}`); // top 10, left 20, bottom 60, right 90
  await writeFile(path.join(dir, 'refs.csv'), lines.join('\n') + '\n');
  await writeFile(path.join(dir, 'features.npy'), npy(matrix));
  return { files, box: [20, 10, 90, 60] as const };
}

describe('import-features on the local stack', () => {
  let stack: LocalStack | undefined;
  afterAll(async () => stack?.close());

  it('imports a references CSV and a .npy matrix, serves the box, trains on the vectors, and re-runs as a no-op', async () => {
    const dataDir = await tempDir('features');
    const work = await tempDir('features-in');
    const { files, box } = await featureFiles(work);
    // The test waits for two retrains: at background priority (SCHED_IDLE) they would wait for an idle core, which a
    // machine busy with other work may not have for minutes.
    stack = await startTestStack(dataDir, { trainerPriority: 'normal' });
    // The photos were imported earlier and the trainer already ranked them with the built-in embedder.
    const target = await localTarget(dataDir);
    await importFolder(target, { dir: FLOWERS, files, project: 'flowers', classes: ['daisy', 'roses'], concurrency: 4, wait: true, out: devNull() });
    await stack.trainer.flush('flowers');
    expect((await stack.stores.rankings.get('flowers'))?.model).not.toBe(MODEL);

    const args = ['import-features', path.join(work, 'refs.csv'), '--features', path.join(work, 'features.npy'), '--images', FLOWERS];
    const run = await winnow([...args, '--project', 'flowers', '--classes', 'daisy,roses', '--model', MODEL, '--data', dataDir]);
    expect(run.out).toContain(`imported 11 feature rows (model "${MODEL}", ${DIMS} dims): 1 new samples, 4 labels applied`);
    expect(run.code).toBe(0);

    const shards = await stack.stores.blobs.list(`embeddings/flowers/${MODEL}/`);
    expect(shards.items.length).toBeGreaterThan(0);
    const api = apiClient(stack.url, 'ann');
    expect((await api('GET', '/api/projects/flowers')).json.project.embedding).toEqual({ model: MODEL });
    const progress = (await api('GET', '/api/projects/flowers/progress')).json;
    expect(progress).toMatchObject({ total: 11, labeled: 4, images: { ready: 10, pending: 0, failed: 0 } });
    expect(progress.byClass).toEqual([{ name: 'daisy', count: 2 }, { name: 'roses', count: 2 }]);

    // The trainer ranks with the imported vectors: the box exists only there.
    const boxId = boxSampleId(imageIdFor(`uploads/flowers/${files[0]}`), [...box]);
    await stack.trainer.flush('flowers');
    const ranking = await stack.stores.rankings.get('flowers');
    expect(ranking?.model).toBe(MODEL);
    expect(ranking?.sampleIds).toContain(boxId);

    const served = (await api('GET', '/api/projects/flowers/next?count=20')).json.samples;
    expect(served).toHaveLength(7);
    const boxSample = served.find((s: any) => s.sample.sampleId === boxId);
    expect(boxSample.sample).toMatchObject({ kind: 'box', box });
    expect(boxSample.image.key).toBe(`uploads/flowers/${files[0]}`);
    expect((await fetch(boxSample.image.url)).headers.get('content-type')).toBe('image/jpeg'); // a small upright JPEG is shown as it is

    // The same files again (the model now comes from the project): nothing new.
    const opts = { csv: path.join(work, 'refs.csv'), features: path.join(work, 'features.npy'), images: FLOWERS, project: 'flowers', out: devNull() };
    const again = await runFeatureImport(target, await planFeatureImport(opts), opts);
    expect(again).toMatchObject({ model: MODEL, uploaded: 0, samplesCreated: 0, labelsApplied: 0, labelsKept: 4, vectors: 11 });
  });

  it('stops before sending anything when the CSV has problems, naming each line', async () => {
    const work = await tempDir('features-bad');
    await writeFile(path.join(work, 'features.npy'), npy([[1, 2], [3, 4]]));
    await writeFile(path.join(work, 'refs.csv'), 'filename,bbox,annotation,feat_idx\ndaisy/nope.jpg,,,0\nroses/x.jpg,5-5-1-9,,2\n');
    const run = await winnow(['import-features', path.join(work, 'refs.csv'), '--features', path.join(work, 'features.npy'), '--images', FLOWERS, '--project', 'p', '--data', work]);
    expect(run.code).toBe(1);
    expect(run.out).toContain('line 3: bbox "5-5-1-9": bottom_row 1 must be below top_row 5');
    expect(run.out).toContain('line 3: feat_idx 2 is out of range: the features matrix has 2 rows (0..1)');
    expect(run.out).not.toContain('no running Winnow');
  });
});
