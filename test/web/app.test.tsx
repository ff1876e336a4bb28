// @vitest-environment jsdom
import { fireEvent, render, screen, waitFor } from '@solidjs/testing-library';
import { describe, expect, it } from 'vitest';
import { App } from '../../web/src/App.js';
import { resetSaveRunners } from '../../web/src/saving/saving.js';
import { createFakeServer } from './fakeServer.js';

describe('app shell', () => {
  it('asks for a labeler name once, remembers it, lists projects and opens one', async () => {
    const server = createFakeServer();
    render(() => <App fetch={server.fetch} />);
    const name = (await screen.findByLabelText('Your name')) as HTMLInputElement;
    fireEvent.input(name, { target: { value: 'ann' } });
    fireEvent.submit(name.form!);
    await waitFor(() => expect(screen.getByTestId('project-list')).toBeTruthy());
    expect(localStorage.getItem('winnow.labeler')).toBe('ann');
    expect(server.requests.find((r) => r.path === '/api/projects')?.headers['x-winnow-user']).toBe('ann');

    location.hash = screen.getByTestId('project-flowers').getAttribute('href')!;
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    await waitFor(() => expect(screen.getByTestId('sample-image').getAttribute('data-sample-id')).toBe('s1'));
  });

  it('starts with the remembered name and keeps unsaved labels across a reload', async () => {
    localStorage.setItem('winnow.labeler', 'bob');
    location.hash = '#/projects/flowers/label';
    const server = createFakeServer();
    server.failWhen((r) => r.method === 'POST');
    const first = render(() => <App fetch={server.fetch} />);
    await waitFor(() => expect(screen.getByTestId('sample-image').getAttribute('data-sample-id')).toBe('s1'));
    fireEvent.keyDown(document.body, { key: '2', code: 'Digit2' });
    await waitFor(() => expect(screen.getByTestId('save-status').dataset.unsaved).toBe('1'));
    const key = server.writes()[0].body.requestId;

    // The tab is reloaded while offline; when it comes back, the label is resent with its original key.
    first.unmount();
    resetSaveRunners();
    server.failWhen(undefined);
    render(() => <App fetch={server.fetch} />);
    await waitFor(() => expect(server.samples[0].label?.confidences).toEqual([0, 1, 0]));
    expect(new Set(server.writes().map((w) => w.body.requestId))).toEqual(new Set([key]));
    await waitFor(() => expect(screen.getByTestId('save-status').textContent).toContain('All labels saved'));
    // s1 is not offered again while its label is on its way.
    expect(screen.getByTestId('sample-image').getAttribute('data-sample-id')).toBe('s2');
  });

  it('edits a project’s settings with the version the owner saw', async () => {
    localStorage.setItem('winnow.labeler', 'owner');
    location.hash = '#/projects/flowers/settings';
    const server = createFakeServer();
    render(() => <App fetch={server.fetch} />);
    const name = (await screen.findByLabelText('Name')) as HTMLInputElement;
    expect(name.value).toBe('Flowers');
    expect((screen.getByLabelText(/^Classes/) as HTMLTextAreaElement).value).toBe('daisy\nrose\ntulip');
    fireEvent.input(name, { target: { value: 'Spring flowers' } });
    fireEvent.input(screen.getByLabelText(/^Classes/), { target: { value: 'daisy\nrose\ntulip\nsunflower' } });
    fireEvent.submit(name.form!);
    await screen.findByText(/Saved \(version 2\)/);
    const patch = server.writes().find((w) => w.method === 'PATCH');
    expect(patch?.body).toMatchObject({ name: 'Spring flowers', classes: ['daisy', 'rose', 'tulip', 'sunflower'], version: 1 });
    expect(server.project.classes).toHaveLength(4);
  });
});
