// @vitest-environment jsdom
// The owner's export panel: the choices become the API request, progress is shown while the job runs, the
// download link appears when it is done, and a failure shows the server's reason.
import { fireEvent, render, screen, waitFor } from '@solidjs/testing-library';
import { describe, expect, it } from 'vitest';
import { createApi, type FetchLike } from '../../web/src/api/api.js';
import { AppContext } from '../../web/src/shared/context.js';
import type { ExportJob } from '../../web/src/api/types.js';
import { ExportView } from '../../web/src/views/ExportView.js';

function jobServer(finish: Partial<ExportJob>, project: Record<string, unknown> | null = { taskType: 'box-review' }) {
  const requests: { method: string; path: string; body?: unknown }[] = [];
  let polls = 0;
  const base: ExportJob = {
    exportId: '20250301-100000-abcdef',
    projectId: 'flowers',
    requestedBy: 'owner',
    state: 'queued',
    request: { format: 'coco', include: 'labeled', excludeAmbiguous: false, images: true },
    counts: { images: 0, boxes: 0, labels: 0, files: 0, rotated: 0, rows: 0 },
    bytes: 0,
    fileName: 'flowers-yolo-20250301-100000.zip',
    contentType: 'application/zip',
    createdAt: '2025-03-01T10:00:00Z',
    updatedAt: '2025-03-01T10:00:00Z',
  };
  const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const fetch: FetchLike = async (input, init) => {
    const url = new URL(input, 'http://app.test');
    const body = init?.body ? JSON.parse(init.body as string) : undefined;
    requests.push({ method: init?.method ?? 'GET', path: url.pathname, body });
    if (url.pathname.endsWith('/progress')) return json({ labelers: [{ labelerId: 'ann', total: 3, today: 1 }] });
    if (url.pathname === '/api/projects/flowers') {
      return project
        ? json({ project: { id: 'flowers', name: 'Flowers', classes: ['daisy', 'tulip'], ...project } })
        : json({ code: 'not_found', message: 'project "flowers" not found', requestId: 'r1' }, 404);
    }
    if (init?.method === 'POST') return json({ ...base, request: body }, 202);
    polls++;
    if (polls === 1) return json({ ...base, state: 'running', counts: { ...base.counts, images: 120, boxes: 340 }, bytes: 2048 });
    return json({ ...base, counts: { ...base.counts, images: 250, boxes: 700 }, bytes: 3 * 1024 * 1024, ...finish });
  };
  return { fetch, requests };
}

function setup(server: ReturnType<typeof jobServer>) {
  const api = createApi({ fetch: server.fetch, identity: () => ({ kind: 'user', name: 'owner' }) });
  render(() => (
    <AppContext.Provider value={{ api, labeler: () => 'owner', setLabeler: () => {} }}>
      <ExportView projectId="flowers" />
    </AppContext.Provider>
  ));
}

describe('export panel', () => {
  it('sends the chosen format and filters, shows progress, then the download link', async () => {
    const server = jobServer({ state: 'done', downloadUrl: 'http://s3.test/exports/flowers/x.zip?sig=1' });
    setup(server);
    fireEvent.click(screen.getByRole('radio', { name: /YOLO/ }));
    fireEvent.change(screen.getByRole('combobox', { name: /^Images/ }), { target: { value: 'all' } });
    fireEvent.input(screen.getByRole('combobox', { name: /Labeler/ }), { target: { value: 'ann' } });
    fireEvent.click(screen.getByRole('checkbox', { name: /ambiguous/ }));
    fireEvent.click(screen.getByTestId('export-images'));
    fireEvent.click(screen.getByRole('button', { name: 'Start export' }));

    await waitFor(() => expect(screen.getByRole('status').textContent).toContain('120 images, 340 boxes'));
    expect(server.requests.find((r) => r.method === 'POST')).toEqual({
      method: 'POST',
      path: '/api/projects/flowers/exports',
      body: { format: 'yolo', include: 'all', excludeAmbiguous: true, images: false, labelerId: 'ann' },
    });
    const link = (await screen.findByTestId('export-download')) as HTMLAnchorElement;
    expect(link.href).toBe('http://s3.test/exports/flowers/x.zip?sig=1');
    expect(link.getAttribute('download')).toBe('flowers-yolo-20250301-100000.zip');
    expect(screen.getByRole('status').textContent).toContain('3.0 MiB');
  });

  it('always includes images for class folders, and shows why a job failed', async () => {
    const server = jobServer({ state: 'failed', reason: 'the original uploads/flowers/a.jpg is no longer in the bucket' });
    setup(server);
    fireEvent.click(screen.getByRole('radio', { name: /Class folders/ }));
    const images = screen.getByTestId('export-images') as HTMLInputElement;
    expect([images.checked, images.disabled]).toEqual([true, true]);
    fireEvent.click(screen.getByRole('button', { name: 'Start export' }));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain('no longer in the bucket'));
    expect(server.requests.find((r) => r.method === 'POST')?.body).toMatchObject({ format: 'folders', images: true });
  });

  it('disables YOLO and VOC for a classification project and says which formats carry its labels', async () => {
    const server = jobServer({ state: 'done' }, { taskType: 'single-label' });
    setup(server);
    await waitFor(() => expect((screen.getByRole('radio', { name: /YOLO/ }) as HTMLInputElement).disabled).toBe(true));
    expect((screen.getByRole('radio', { name: /Pascal VOC/ }) as HTMLInputElement).disabled).toBe(true);
    expect(screen.getByTestId('unfit-yolo').textContent).toMatch(/Boxes only.*image-level.*COCO JSON, CSV, JSON Lines, Class folders, Embeddings/);
    expect(screen.getByRole('radio', { name: /YOLO/ }).getAttribute('aria-describedby')).toBe('unfit-yolo');
    for (const name of [/^COCO JSON/, /^CSV/, /^Class folders/]) expect((screen.getByRole('radio', { name }) as HTMLInputElement).disabled).toBe(false);
  });

  it('keeps YOLO and VOC for a classification project that detects boxes at ingest', async () => {
    setup(jobServer({ state: 'done' }, { taskType: 'single-label', detection: { enabled: true } }));
    await screen.findByText(/Export labels/);
    await new Promise((r) => setTimeout(r, 20));
    expect((screen.getByRole('radio', { name: /YOLO/ }) as HTMLInputElement).disabled).toBe(false);
  });

  it('shows "project not found" with a way back for an unknown project', async () => {
    setup(jobServer({ state: 'done' }, null));
    expect((await screen.findByTestId('project-not-found')).textContent).toContain('There is no project “flowers”');
    expect(screen.getByRole('link', { name: /Back to your projects/ }).getAttribute('href')).toBe('#/');
    expect(screen.queryByTestId('export-view')).toBeNull();
  });
});
