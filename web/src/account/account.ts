// Who is using the app, for the life of the page: found at start (auth.ts), signed in through the form, and
// signed out again when the token runs out or the API answers 401. Signing out never touches the save queue:
// unsaved labels wait (unsent) in memory and localStorage until the same labeler signs in again.

import { createSignal, onCleanup } from 'solid-js';
import type { ApiError, FetchLike, Identity } from '../api/api.js';
import { discoverAuth, loadStoredAuth, saveStoredAuth, type AuthSetup, type SignedIn, type SignInMethod } from './auth.js';
import { retryAllRunners } from '../saving/saving.js';
import { loadLabelerName, saveLabelerName } from '../saving/storage.js';

export type AccountState =
  | { status: 'starting' }
  | { status: 'unreachable'; message: string }
  /** No sign-in on this server (loopback): the labeler names themself. */
  | { status: 'open' }
  | { status: 'signed-out'; method: SignInMethod; reason?: string }
  | { status: 'signed-in'; method: SignInMethod; session: SignedIn };

/** Longest timer the browser keeps (longer ones fire at once). */
const MAX_TIMER = 2 ** 31 - 1;

export function createAccount(fetch: FetchLike) {
  const stored = loadStoredAuth();
  const [setup, setSetup] = createSignal<AuthSetup | undefined>(stored?.setup);
  const [state, setState] = createSignal<AccountState>(initialState(stored));
  const [name, setName] = createSignal(loadLabelerName());
  let expiry: ReturnType<typeof setTimeout> | undefined;
  let discovering: Promise<void> | undefined;

  function apply(next: AccountState, nextSetup = setup()): void {
    setSetup(nextSetup);
    setState(next);
    saveStoredAuth(nextSetup && { setup: nextSetup, ...(next.status === 'signed-in' ? { session: next.session } : {}) });
    if (expiry) clearTimeout(expiry);
    expiry = undefined;
    if (next.status === 'signed-in') {
      // Sign out when the token expires rather than letting the next save fail with 401.
      const wait = Math.min(MAX_TIMER, Math.max(0, next.session.expiresAt - Date.now() - 30_000));
      expiry = setTimeout(() => signOut('Your sign-in expired: sign in again. Unsaved labels are kept and sent after.'), wait);
      // Labels that waited for this sign-in go out now.
      retryAllRunners();
    }
  }

  /** Asks the server how to sign in; keeps a remembered session when the method is still the same. */
  function discover(): Promise<void> {
    discovering ??= discoverAuth(fetch)
      .then((found) => {
        const current = state();
        if (!found.method) return apply({ status: 'open' }, found);
        if (current.status === 'signed-in' && sameMethod(current.method, found.method)) return apply(current, found);
        if (current.status === 'signed-out' && sameMethod(current.method, found.method)) return apply(current, found);
        apply({ status: 'signed-out', method: found.method }, found);
      })
      .catch((err: Error) => {
        // Offline with a remembered setup: keep working from it; the save queue waits for the network.
        if (state().status === 'starting') setState({ status: 'unreachable', message: err.message });
      })
      .finally(() => (discovering = undefined));
    return discovering;
  }

  function signedIn(session: SignedIn): void {
    const s = state();
    const method = s.status === 'signed-in' || s.status === 'signed-out' ? s.method : undefined;
    if (method) apply({ status: 'signed-in', method, session });
  }

  function signOut(reason?: string): void {
    const s = state();
    if (s.status === 'signed-in' || s.status === 'signed-out') apply({ status: 'signed-out', method: s.method, reason });
  }

  /** The API refused the caller (one place: api.ts calls this on every 401). */
  function unauthorized(error: ApiError): void {
    const s = state();
    if (s.status === 'signed-in') {
      signOut(`Please sign in again (${error.message}). Unsaved labels are kept and sent after you sign in.`);
    } else if (s.status === 'open') {
      // The server may have turned sign-in on since this tab started.
      void discover();
    }
  }

  const identity = (): Identity | undefined => {
    const s = state();
    if (s.status === 'signed-in') return { kind: 'bearer', token: s.session.token, name: s.session.username };
    if (s.status === 'open' && name()) return { kind: 'user', name: name() };
    return undefined;
  };

  /** The labeler's name: the signed-in user, or the name picked on the home page. */
  const labeler = (): string => {
    const s = state();
    if (s.status === 'signed-in') return s.session.username;
    return s.status === 'open' ? name() : '';
  };

  onCleanup(() => expiry && clearTimeout(expiry));
  void discover();

  return {
    state,
    identity,
    labeler,
    apiUrl: () => setup()?.apiUrl ?? '',
    setLabelerName(value: string) {
      saveLabelerName(value);
      setName(value);
    },
    signedIn,
    signOut: () => signOut(),
    unauthorized,
    retry: discover,
  };
}

export type Account = ReturnType<typeof createAccount>;

function initialState(stored: ReturnType<typeof loadStoredAuth>): AccountState {
  if (!stored) return { status: 'starting' };
  const method = stored.setup.method;
  if (!method) return { status: 'open' };
  return stored.session ? { status: 'signed-in', method, session: stored.session } : { status: 'signed-out', method };
}

function sameMethod(a: SignInMethod, b: SignInMethod): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
