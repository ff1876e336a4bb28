// Sign-in: user name and password, against the local issuer or Cognito (auth.ts decides which). Cognito users
// created by an administrator choose their own password on first sign-in.

import { createSignal, onMount, Show } from 'solid-js';
import type { FetchLike } from '../api/api.js';
import { completeNewPassword, signIn, type SignedIn, type SignInMethod } from '../account/auth.js';

export function SignIn(props: { method: SignInMethod; fetch: FetchLike; reason?: string; onSignedIn: (session: SignedIn) => void }) {
  const [username, setUsername] = createSignal('');
  const [password, setPassword] = createSignal('');
  const [newPassword, setNewPassword] = createSignal('');
  const [challenge, setChallenge] = createSignal<string>();
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string>();
  let usernameInput: HTMLInputElement | undefined;
  // The form is the whole page: start typing at once.
  onMount(() => usernameInput?.focus());

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    if (busy()) return;
    setBusy(true);
    setError(undefined);
    try {
      const c = challenge();
      const step = c
        ? await completeNewPassword(props.fetch, props.method, username().trim(), newPassword(), c)
        : await signIn(props.fetch, props.method, username().trim(), password());
      if (step.kind === 'signed-in') props.onSignedIn(step.session);
      else setChallenge(step.challenge);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="home sign-in" data-testid="sign-in">
      <header class="home-head">
        <h1>Winnow</h1>
        <p class="muted">Sign in to label images.</p>
      </header>
      <form class="card sign-in-form" onSubmit={submit} aria-label="Sign in">
        <Show when={props.reason}>
          <p class="notice-box" role="status">
            {props.reason}
          </p>
        </Show>
        <label for="sign-in-username">User name</label>
        <input
          ref={usernameInput}
          id="sign-in-username"
          name="username"
          autocomplete="username"
          autocapitalize="none"
          spellcheck={false}
          required
          maxLength={256}
          disabled={!!challenge()}
          value={username()}
          onInput={(e) => setUsername(e.currentTarget.value)}
        />
        <Show
          when={challenge()}
          fallback={
            <>
              <label for="sign-in-password">Password</label>
              <input
                id="sign-in-password"
                name="password"
                type="password"
                autocomplete="current-password"
                required
                maxLength={1024}
                value={password()}
                onInput={(e) => setPassword(e.currentTarget.value)}
              />
            </>
          }
        >
          <label for="sign-in-new-password">Choose a new password</label>
          <input
            id="sign-in-new-password"
            name="new-password"
            type="password"
            autocomplete="new-password"
            required
            minLength={8}
            maxLength={1024}
            value={newPassword()}
            onInput={(e) => setNewPassword(e.currentTarget.value)}
          />
        </Show>
        <Show when={error()}>
          <p class="error" role="alert" data-testid="sign-in-error">
            {error()}
          </p>
        </Show>
        <button type="submit" class="primary" disabled={busy()}>
          {busy() ? 'Signing in…' : challenge() ? 'Set password and sign in' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
