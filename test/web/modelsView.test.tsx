// @vitest-environment jsdom
// The owner's Models page against a fake server speaking the API's shapes (the real routes are tested end to end in
// test/models): a file is uploaded and inspected, the proposed manifest shown and tried on the project's photos with
// the boxes drawn over them, registered, and then the project's embedder switched with the cost shown first and the
// re-embedding's progress followed to the end.
import { fireEvent, render, screen, waitFor } from '@solidjs/testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { createApi, type FetchLike } from '../../web/src/api/api.js';
import { AppContext } from '../../web/src/shared/context.js';
import { ModelsView, parseClassMap } from '../../web/src/views/ModelsView.js';

function modelServer() {
  const requests: { method: string; path: string; body?: any }[] = [];
  const models: any[] = [];
  let polls = 0;
  let reembedding = false;
  const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const trial = { role: 'detector', msPerImage: 31.5, items: [{ imageId: 'img1', ms: 31.5, width: 400, height: 300, boxes: [{ box: [10, 20, 110, 220], name: 'vase', score: 0.8 }] }] };
  const fetch: FetchLike = async (input, init) => {
    const url = new URL(input, 'http://app.test');
    const method = init?.method ?? 'GET';
    const body = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined;
    requests.push({ method, path: url.pathname + url.search, body });
    if (method === 'PUT' && url.pathname === '/upload/abc') return new Response(null, { status: 200 });
    if (url.pathname === '/api/models' && method === 'GET') return json({ models });
    if (url.pathname === '/api/models/uploads') return json({ upload: 'abc', url: 'http://app.test/upload/abc', headers: { 'content-type': 'application/octet-stream' } }, 201);
    if (url.pathname === '/api/models/inspect') {
      return json({
        sha256: 'f'.repeat(64),
        bytes: 5,
        graph: { nodes: 3, producer: 'pytorch', inputs: [{ name: 'images', dtype: 'float32', shape: [1, 3, 416, 416], dynamic: [] }], outputs: [{ name: 'output', dtype: 'float32', shape: [1, 3549, 85], dynamic: [] }] },
        proposal: { manifest: { name: body.name, role: 'detector' }, labels: ['person', 'vase'], notes: ['output read as yolox with 80 classes'] },
      });
    }
    if (url.pathname === '/api/models/trial') return json({ manifest: body.manifest, trial });
    if (url.pathname === '/api/models') {
      models.push({ name: body.manifest.name, role: 'detector', sha256: 'f'.repeat(64), bytes: 5, msPerImage: 31.5 }, { name: 'tiny64', role: 'embedder', sha256: 'e'.repeat(64), bytes: 9, msPerImage: 2 });
      return json({ model: models[0], trial }, 201);
    }
    if (url.pathname === '/api/projects/shop/images') return json({ images: [{ imageId: 'img1', key: 'uploads/shop/a.jpg', status: 'ready', thumbUrl: 'http://app.test/thumb/img1.webp' }] });
    if (url.pathname === '/api/projects/shop/models' && method === 'PUT') {
      reembedding = true;
      return json({ embedder: null, detector: null, reembed: { model: 'tiny64', status: 'running', total: 12, done: 0, skipped: 0 } }, 202);
    }
    if (url.pathname === '/api/projects/shop/models') {
      if (url.searchParams.get('embedder')) return json({ embedder: null, detector: null, cost: { model: 'tiny64', images: 12, estimatedSeconds: 3 } });
      if (!reembedding) return json({ embedder: null, detector: null });
      polls++;
      return polls < 2
        ? json({ embedder: null, detector: null, reembed: { model: 'tiny64', status: 'running', total: 12, done: 5, skipped: 0 } })
        : json({ embedder: 'tiny64', detector: null, reembed: { model: 'tiny64', status: 'done', total: 12, done: 12, skipped: 0 } });
    }
    return json({ code: 'not_found', message: `no route ${method} ${url.pathname}` }, 404);
  };
  return { fetch, requests };
}

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

describe('Models page', () => {
  it('inspects an uploaded file, tries the proposal with boxes drawn, registers it and re-embeds with progress', async () => {
    const server = modelServer();
    globalThis.fetch = server.fetch as typeof fetch; // the presigned PUT goes straight to the (fake) bucket
    const api = createApi({ fetch: server.fetch, identity: () => ({ kind: 'user', name: 'owner' }) });
    render(() => (
      <AppContext.Provider value={{ api, labeler: () => 'owner', setLabeler: () => {} }}>
        <ModelsView projectId="shop" />
      </AppContext.Provider>
    ));
    const file = new File([new Uint8Array([8, 1, 2, 3, 4])], 'My Detector.onnx');
    fireEvent.change(screen.getByLabelText('ONNX file'), { target: { files: [file] } });
    fireEvent.submit(screen.getByRole('form', { name: 'Register a model' }));
    await waitFor(() => expect(screen.getByTestId('graph').textContent).toContain('output output float32 [1, 3549, 85]'));
    expect(server.requests.find((r) => r.path === '/api/models/inspect')?.body).toEqual({ upload: 'abc', name: 'my-detector' });
    expect((screen.getByLabelText('Manifest') as HTMLTextAreaElement).value).toContain('"role": "detector"');

    fireEvent.input(screen.getByLabelText('Class map'), { target: { value: 'vase=vase' } });
    fireEvent.click(screen.getByRole('button', { name: 'Try on this project' }));
    await waitFor(() => expect(screen.getByTestId('trial-item').textContent).toContain('vase 0.8'));
    expect(server.requests.find((r) => r.path === '/api/models/trial')?.body).toMatchObject({ classMap: { vase: 'vase' }, labels: ['person', 'vase'], projectId: 'shop' });
    const rect = screen.getByTestId('trial').querySelector('svg rect')!;
    expect([rect.getAttribute('x'), rect.getAttribute('y'), rect.getAttribute('width'), rect.getAttribute('height')]).toEqual(['10', '20', '100', '200']);

    fireEvent.click(screen.getByRole('button', { name: 'Register' }));
    await waitFor(() => expect(screen.getByText('Registered “my-detector”.')).toBeTruthy());

    await waitFor(() => expect(screen.getByRole('option', { name: 'tiny64' })).toBeTruthy());
    fireEvent.change(screen.getByLabelText('Embedder'), { target: { value: 'tiny64' } });
    const costButton = screen.getByRole('button', { name: 'What would it cost?' }) as HTMLButtonElement;
    await waitFor(() => expect(costButton.disabled).toBe(false)); // enabled once the registration has finished
    fireEvent.click(costButton);
    await waitFor(() => expect(screen.getByTestId('reembed-cost').textContent).toContain('Re-embeds 12 images, about 3 s'));
    fireEvent.click(screen.getByRole('button', { name: 'Re-embed with tiny64' }));
    await waitFor(() => expect(screen.getByTestId('reembed-progress').textContent).toContain('12 / 12 images done'), { timeout: 5000 });
    expect(screen.getByTestId('project-embedder').textContent).toBe('tiny64');
  });

  it('reads a class map, one from=to per line, and refuses a line without both', () => {
    expect(parseClassMap('apple = fruit\norange=fruit\n')).toEqual({ apple: 'fruit', orange: 'fruit' });
    expect(parseClassMap('  ')).toBeUndefined();
    expect(() => parseClassMap('apple')).toThrow('class map: "apple" is not from=to');
  });
});
