// @vitest-environment jsdom
// Sign-in in the app shell: the local issuer's form, Cognito's USER_PASSWORD_AUTH over plain fetch, and a 401
// in the middle of labeling that sends the labeler back to the form without losing the label.
import { fireEvent, render, screen, waitFor } from '@solidjs/testing-library';
import { describe, expect, it } from 'vitest';
import { App } from '../../web/src/App.js';
import { decodeJwtPayload } from '../../web/src/account/auth.js';
import { createFakeServer } from './fakeServer.js';

async function signInThroughForm(username: string, password: string) {
  fireEvent.input(await screen.findByLabelText('User name'), { target: { value: username } });
  fireEvent.input(screen.getByLabelText('Password'), { target: { value: password } });
  fireEvent.submit(screen.getByRole('form', { name: 'Sign in' }));
}

const bearerOf = (r: { headers: Record<string, string> }) => /^Bearer (.+)$/.exec(r.headers['authorization'] ?? '')?.[1];

describe('sign-in with the local issuer', () => {
  it('shows the form, refuses a wrong password, then sends the ID token on every API call', async () => {
    const server = createFakeServer({ signIn: { users: { ann: 'Tulips-in-April-2026' } } });
    render(() => <App fetch={server.fetch} />);

    await signInThroughForm('ann', 'wrong');
    expect((await screen.findByTestId('sign-in-error')).textContent).toBe('wrong username or password');
    expect(server.requests.some((r) => r.path.startsWith('/api/'))).toBe(false);

    fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'Tulips-in-April-2026' } });
    fireEvent.submit(screen.getByRole('form', { name: 'Sign in' }));
    await waitFor(() => expect(screen.getByTestId('project-list')).toBeTruthy());
    expect(screen.getByTestId('labeler').textContent).toBe('ann');

    const apiCalls = server.requests.filter((r) => r.path.startsWith('/api/'));
    expect(apiCalls.length).toBeGreaterThan(0);
    for (const call of apiCalls) {
      expect(decodeJwtPayload(bearerOf(call)!)['cognito:username']).toBe('ann');
      expect(call.headers['x-winnow-user']).toBeUndefined();
    }
    // The token is kept for this tab only: a reload signs in without the form, closing the tab forgets it.
    expect(sessionStorage.getItem('winnow.auth')).toContain(bearerOf(apiCalls[0])!);
    expect(JSON.stringify({ ...localStorage })).not.toContain(bearerOf(apiCalls[0])!);
  });

  it('goes back to sign-in on a 401 while labeling, keeps the unsaved label, and sends it after signing in', async () => {
    const server = createFakeServer({ signIn: { users: { ann: 'Tulips-in-April-2026' } } });
    location.hash = '#/projects/flowers/label';
    render(() => <App fetch={server.fetch} />);
    await signInThroughForm('ann', 'Tulips-in-April-2026');
    await waitFor(() => expect(screen.getByTestId('sample-image').getAttribute('data-sample-id')).toBe('s1'));

    // The token runs out; the next label is refused with 401.
    server.revokeTokens();
    fireEvent.keyDown(document.body, { key: '2', code: 'Digit2' });
    expect((await screen.findByTestId('sign-in')).textContent).toContain('Please sign in again');
    const refused = server.writes().filter((w) => w.path.endsWith('/annotations'));
    expect(refused).toHaveLength(1);
    const requestId = refused[0].body.requestId;
    // Not dropped, not listed as failed: waiting in the queue and in localStorage for the labeler to come back.
    expect(localStorage.getItem('winnow.unsaved.flowers.ann')).toContain(requestId);
    expect(localStorage.getItem('winnow.unsaved.flowers.ann')).not.toContain('"failed":[{');
    expect(server.samples[0].label).toBeUndefined();

    await signInThroughForm('ann', 'Tulips-in-April-2026');
    await waitFor(() => expect(server.samples[0].label?.confidences).toEqual([0, 1, 0]));
    const sent = server.writes().filter((w) => w.path.endsWith('/annotations'));
    // The same idempotency key, now with the new token.
    expect(sent.map((w) => w.body.requestId)).toEqual([requestId, requestId]);
    expect(bearerOf(sent[1])).not.toBe(bearerOf(sent[0]));
    await waitFor(() => expect(screen.getByTestId('save-status').textContent).toContain('All labels saved'));
    expect(localStorage.getItem('winnow.unsaved.flowers.ann')).toBeNull();
  });

  it('does not send one labeler’s waiting labels under another’s sign-in', async () => {
    // Enough samples that Ann's prefetched leases leave some for Bob.
    const server = createFakeServer({ samples: 100, signIn: { users: { ann: 'Tulips-in-April-2026', bob: 'Roses-in-June-2026' } } });
    location.hash = '#/projects/flowers/label';
    render(() => <App fetch={server.fetch} />);
    await signInThroughForm('ann', 'Tulips-in-April-2026');
    await waitFor(() => expect(screen.getByTestId('sample-image').getAttribute('data-sample-id')).toBe('s1'));
    server.revokeTokens();
    fireEvent.keyDown(document.body, { key: '1', code: 'Digit1' });
    await screen.findByTestId('sign-in');

    const annotations = () => server.writes().filter((w) => w.path.endsWith('/annotations'));
    const annsLabel = annotations()[0].body.requestId;

    await signInThroughForm('bob', 'Roses-in-June-2026');
    await waitFor(() => expect(screen.getByTestId('sample-image')).toBeTruthy());
    // Bob labels what he is shown; once his label is saved, whatever the sign-in would have sent has been sent.
    fireEvent.keyDown(document.body, { key: '2', code: 'Digit2' });
    await waitFor(() => expect(annotations()).toHaveLength(2));
    await waitFor(() => expect(screen.getByTestId('save-status').textContent).toContain('All labels saved'));
    const [refused, bobs] = annotations();
    expect(annotations()).toHaveLength(2);
    expect(refused.body.requestId).toBe(annsLabel);
    expect(bobs.body.requestId).not.toBe(annsLabel);
    expect(decodeJwtPayload(bearerOf(bobs)!)['cognito:username']).toBe('bob');
    expect(localStorage.getItem('winnow.unsaved.flowers.ann')).toContain(annsLabel);
  });
});

describe('sign-in with Cognito (config.json)', () => {
  it('posts USER_PASSWORD_AUTH to the regional endpoint with plain fetch and uses the IdToken', async () => {
    const server = createFakeServer({ cognito: { region: 'eu-west-1', users: { 'ann@example.com': 'Daisies-2026!' } } });
    render(() => <App fetch={server.fetch} />);
    await signInThroughForm('ann@example.com', 'nope');
    expect((await screen.findByTestId('sign-in-error')).textContent).toBe('Incorrect username or password.');

    fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'Daisies-2026!' } });
    fireEvent.submit(screen.getByRole('form', { name: 'Sign in' }));
    await waitFor(() => expect(screen.getByTestId('project-list')).toBeTruthy());

    const auth = server.requests.filter((r) => r.headers['x-amz-target']);
    expect(auth).toHaveLength(2);
    expect(auth[1]).toMatchObject({
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth' },
      body: { AuthFlow: 'USER_PASSWORD_AUTH', ClientId: 'web-client', AuthParameters: { USERNAME: 'ann@example.com', PASSWORD: 'Daisies-2026!' } },
    });
    const list = server.requests.find((r) => r.path === '/api/projects')!;
    expect(decodeJwtPayload(bearerOf(list)!)['cognito:username']).toBe('ann@example.com');
  });

  it('asks an administrator-created user for a new password first', async () => {
    const server = createFakeServer({
      cognito: { region: 'eu-west-1', users: { bob: 'Temp-Pass-1' }, mustChangePassword: ['bob'] },
    });
    render(() => <App fetch={server.fetch} />);
    await signInThroughForm('bob', 'Temp-Pass-1');
    fireEvent.input(await screen.findByLabelText('Choose a new password'), { target: { value: 'My-Own-Pass-2026' } });
    fireEvent.submit(screen.getByRole('form', { name: 'Sign in' }));
    await waitFor(() => expect(screen.getByTestId('project-list')).toBeTruthy());
    const challenge = server.requests.find((r) => r.headers['x-amz-target']?.endsWith('RespondToAuthChallenge'))!;
    expect(challenge.body).toMatchObject({
      ChallengeName: 'NEW_PASSWORD_REQUIRED',
      ClientId: 'web-client',
      ChallengeResponses: { USERNAME: 'bob', NEW_PASSWORD: 'My-Own-Pass-2026' },
    });
  });
});

describe('no sign-in (loopback)', () => {
  it('keeps the "your name" flow and the X-Winnow-User header', async () => {
    const server = createFakeServer();
    render(() => <App fetch={server.fetch} />);
    fireEvent.input(await screen.findByLabelText('Your name'), { target: { value: 'Zoë' } });
    fireEvent.submit(screen.getByRole('form', { name: 'Who is labeling' }));
    await waitFor(() => expect(screen.getByTestId('project-list')).toBeTruthy());
    const list = server.requests.find((r) => r.path === '/api/projects')!;
    expect(list.headers['x-winnow-user']).toBe(encodeURIComponent('Zoë'));
    expect(list.headers['authorization']).toBeUndefined();
    expect(screen.queryByTestId('sign-out')).toBeNull();
  });
});
