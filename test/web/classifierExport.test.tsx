// @vitest-environment jsdom
// The Export page's "Trained classifier" buttons: they ask the server for the ONNX file or the plain head, save what
// comes back under the server's file name, and show the server's reason when there is no model yet.
import { fireEvent, render, screen, waitFor } from '@solidjs/testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { createApi, type FetchLike } from '../../web/src/api/api.js';
import { AppContext } from '../../web/src/shared/context.js';
import { ExportView } from '../../web/src/views/ExportView.js';

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

function server(trained: () => boolean) {
  const asked: string[] = [];
  const fetch: FetchLike = async (input) => {
    const url = new URL(input, 'http://app.test');
    if (url.pathname.endsWith('/progress')) return json({ labelers: [] });
    if (url.pathname === '/api/projects/flowers') return json({ project: { id: 'flowers', name: 'Flowers', classes: ['daisy', 'tulip'], taskType: 'single-label' } });
    if (url.pathname === '/api/projects/flowers/classifier') {
      asked.push(url.searchParams.get('format') ?? '');
      if (!trained()) {
        return json({ code: 'conflict', message: 'project "flowers" has no trained model to export yet: label images of at least two classes', requestId: 'r1' }, 409);
      }
      const name = url.searchParams.get('format') === 'head' ? 'flowers-classifier-head.zip' : 'flowers-classifier.onnx';
      return new Response(new Uint8Array([8, 7, 6]), { headers: { 'content-type': 'application/octet-stream', 'content-disposition': `attachment; filename="${name}"` } });
    }
    return json({ code: 'not_found', message: 'no route' }, 404);
  };
  return { fetch, asked };
}

describe('trained classifier on the Export page', () => {
  const saved: Blob[] = [];
  // jsdom has no object URLs: record what the page hands to the browser to save.
  URL.createObjectURL = (blob: Blob) => {
    saved.push(blob);
    return 'blob:http://app.test/1';
  };
  URL.revokeObjectURL = () => undefined;
  afterEach(() => {
    saved.length = 0;
  });

  it('shows why there is nothing to download yet, then saves the ONNX file and the head under the server\'s names', async () => {
    let trained = false;
    const s = server(() => trained);
    const api = createApi({ fetch: s.fetch, identity: () => ({ kind: 'user', name: 'owner' }) });
    render(() => (
      <AppContext.Provider value={{ api, labeler: () => 'owner', setLabeler: () => {} }}>
        <ExportView projectId="flowers" />
      </AppContext.Provider>
    ));
    fireEvent.click(screen.getByRole('button', { name: 'Download ONNX model' }));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain('has no trained model to export yet'));
    expect(saved).toHaveLength(0);

    trained = true;
    fireEvent.click(screen.getByRole('button', { name: 'Download ONNX model' }));
    await waitFor(() => expect(screen.getByRole('status').textContent).toBe('Saved flowers-classifier.onnx.'));
    expect(screen.queryByRole('alert')).toBeNull();
    expect(new Uint8Array(await saved[0].arrayBuffer())).toEqual(new Uint8Array([8, 7, 6]));

    fireEvent.click(screen.getByRole('button', { name: 'Download head (.zip)' }));
    await waitFor(() => expect(screen.getByRole('status').textContent).toBe('Saved flowers-classifier-head.zip.'));
    expect(s.asked).toEqual(['onnx', 'onnx', 'head']);
  });
});
