// @vitest-environment jsdom
// The owner's auto-label panel against a small stand-in for the auto-label routes (their behaviour is tested on the
// real stores in test/learning/autolabel.test.ts).
import { fireEvent, render, screen, waitFor } from '@solidjs/testing-library';
import { describe, expect, it } from 'vitest';
import { createApi } from '../../web/src/api/api.js';
import { AutolabelPanel } from '../../web/src/components/AutolabelPanel.js';

function server() {
  const calls: string[] = [];
  const batches: any[] = [];
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const fetch = async (input: string, init?: RequestInit) => {
    const url = new URL(input, 'http://x');
    calls.push(`${init?.method ?? 'GET'} ${url.pathname}${url.search}`);
    if (url.pathname === '/api/projects/flowers/autolabel' && (init?.method ?? 'GET') === 'GET') {
      const p = Number(url.searchParams.get('precision'));
      const preview =
        p >= 0.99
          ? { precision: p, possible: false, reason: 'the held-out predictions cannot show 99% precision at any threshold yet' }
          : { precision: p, possible: true, threshold: 0.97, heldOut: 240, correct: 238, estimatedPrecision: 0.9917, interval: { low: 0.97, high: 0.999 }, wouldLabel: 312 };
      return json(200, { preview, batches });
    }
    if (url.pathname === '/api/projects/flowers/autolabel' && init?.method === 'POST') {
      const b = { batchId: 'b1', createdAt: '2026-12-06T08:00:00.000Z', precision: JSON.parse(String(init.body)).precision, threshold: 0.97, labeled: 312, heldOut: 240, correct: 238, estimatedPrecision: 0.9917, interval: { low: 0.97, high: 0.999 } };
      batches.push(b);
      return json(200, b);
    }
    if (url.pathname === '/api/projects/flowers/autolabel/b1/undo') {
      batches[0].undoneAt = 'now';
      return json(200, { batchId: 'b1', restored: 312, kept: 0 });
    }
    return json(404, { code: 'not_found', message: 'no route' });
  };
  return { calls, api: createApi({ fetch, identity: () => ({ kind: 'user', name: 'owner' }) }) };
}

describe('auto-label panel', () => {
  it('shows what it would do with the interval, labels a batch, undoes it, and says why not when it cannot', async () => {
    const s = server();
    render(() => <AutolabelPanel api={s.api} projectId="flowers" />);
    const preview = await screen.findByTestId('autolabel-preview');
    expect(preview.textContent).toContain('312 unlabeled images at confidence ≥ 0.97: estimated precision 99% (95% interval 97%–100%, from 240 of your labels');
    fireEvent.click(screen.getByRole('button', { name: 'Auto-label 312 images' }));
    await screen.findByText('Labeled 312 images.');
    expect(s.calls).toContain('POST /api/projects/flowers/autolabel');
    fireEvent.click(await screen.findByRole('button', { name: 'Undo' }));
    await screen.findByText('Undone: 312 labels removed.');
    await waitFor(() => expect(screen.getByTestId('autolabel-panel').textContent).toContain('undone'));
    fireEvent.change(screen.getByRole('combobox'), { target: { value: '0.99' } });
    expect((await screen.findByTestId('autolabel-reason')).textContent).toContain('cannot show 99% precision');
  });
});
