// `npm run winnow -- models ...` against the running local stack: register a model file (graph, proposal and trial
// printed), list it, and switch a project's embedder with the re-embedding's progress printed until it is done.

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { modelsCommand } from '../../functions/cli/models.js';
import type { LocalStack } from '../../functions/local/stack.js';
import { apiClient, startTestStack, tempDir } from '../support/stack.js';
import { tinyEmbedder } from './onnx-builder.js';
import { uploadPhotos } from './support.js';

describe('winnow models (CLI)', () => {
  let stack: LocalStack | undefined;
  afterAll(async () => {
    await stack?.close();
  });

  it('registers a file, lists it and re-embeds a project with it', async () => {
    const dataDir = await tempDir('byo-cli');
    stack = await startTestStack(dataDir);
    const api = apiClient(stack.url, 'owner');
    await api('POST', '/api/projects', { id: 'garden', classes: ['daisy', 'other'] });
    await uploadPhotos(api, 'garden', ['daisy/100080576_f52e8ee070_n.jpg', 'roses/10090824183_d02c613f10_m.jpg']);
    const file = path.join(await tempDir('byo-cli-file'), 'Tiny Embedder.onnx');
    await writeFile(file, tinyEmbedder(48, 32));

    const lines: string[] = [];
    const out = (line: string) => lines.push(line);
    expect(await modelsCommand(['register', file, '--role', 'embedder', '--project', 'garden', '--data', dataDir], { dataDir }, out)).toBe(0);
    expect(lines.join('\n')).toMatch(/input {2}image float32 \[batch, 3, 32, 32\] \(dynamic: 0\)/);
    expect(lines.join('\n')).toMatch(/output embedding float32 \[batch, 48\]/);
    expect(lines.join('\n')).toMatch(/trial on project garden: [\d.]+ ms per image/);
    expect(lines.join('\n')).toMatch(/norm [\d.]+ \(48-d\); nearest [0-9a-f]+ /);
    expect(lines.at(-1)).toBe('registered "tiny-embedder" (embedder)');

    lines.length = 0;
    expect(await modelsCommand(['list', '--data', dataDir], { dataDir }, out)).toBe(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tiny-embedder\tembedder\t\d+ bytes/);

    lines.length = 0;
    expect(await modelsCommand(['use', '--project', 'garden', '--embedder', 'tiny-embedder', '--data', dataDir], { dataDir }, out)).toBe(0);
    expect(lines[0]).toMatch(/^re-embedding 2 images with tiny-embedder: about \d+ s$/);
    expect(lines.at(-1)).toBe('re-embed 2/2 done');
    expect((await api('GET', '/api/projects/garden/models')).json.embedder).toBe('tiny-embedder');
  });
});
