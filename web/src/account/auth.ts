// How this deployment signs people in, and the signed-in session. Three cases, found at start:
// - the cloud: `/config.json` (written at deploy) names the Cognito user pool and its web client;
// - the local server with sign-in on: `GET /auth/config` answers `{ mode: 'local', issuer, clientId }` and
//   `POST /auth/login` trades a user name and password for an ID token;
// - the local server on loopback without sign-in: `{ mode: 'none' }`, the labeler just picks a name.
// The ID token lives in sessionStorage: it survives a reload but not the tab, and is never written to disk.

import type { FetchLike } from '../api/api.js';
import { initiateAuth, respondNewPassword, SignInError, type CognitoResult } from './cognito.js';

export { SignInError };

export type SignInMethod =
  | { kind: 'local'; issuer: string; clientId: string }
  | { kind: 'cognito'; region: string; userPoolId: string; clientId: string };

export interface AuthSetup {
  /** undefined: no sign-in (loopback), the labeler names themself. */
  method?: SignInMethod;
  /** Prefix of API calls ('' = same origin). */
  apiUrl: string;
}

export interface SignedIn {
  token: string;
  /** `cognito:username`: the name the API knows this user by. */
  username: string;
  groups: string[];
  /** Epoch ms. */
  expiresAt: number;
}

/** Reads `/config.json` and `/auth/config` at once (no waterfall); the cloud's config wins. */
export async function discoverAuth(fetch: FetchLike): Promise<AuthSetup> {
  const [cloud, local] = await Promise.all([getJson(fetch, '/config.json'), getJson(fetch, '/auth/config')]);
  const c = cloud.value as Partial<Record<'apiUrl' | 'userPoolId' | 'userPoolClientId' | 'region', string>> | undefined;
  if (c?.userPoolId && c.userPoolClientId && c.region) {
    return {
      method: { kind: 'cognito', region: c.region, userPoolId: c.userPoolId, clientId: c.userPoolClientId },
      apiUrl: sameOriginOr(c.apiUrl),
    };
  }
  const l = local.value as { mode?: string; issuer?: string; clientId?: string } | undefined;
  if (l?.mode === 'local' && l.issuer && l.clientId) return { method: { kind: 'local', issuer: l.issuer, clientId: l.clientId }, apiUrl: '' };
  // Offline or the server is down: the app says so and offers to try again (guessing could show the wrong form).
  if (local.error) throw new Error(local.error);
  // `{ mode: 'none' }`, or a server from before sign-in existed: the labeler names themself.
  return { apiUrl: '' };
}

export type SignInStep = { kind: 'signed-in'; session: SignedIn } | { kind: 'new-password'; challenge: string };

/** Signs in with a user name and password; Cognito may first ask for a new password (`completeNewPassword`). */
export async function signIn(fetch: FetchLike, method: SignInMethod, username: string, password: string, now = Date.now()): Promise<SignInStep> {
  if (method.kind === 'cognito') return fromCognito(await initiateAuth(fetch, method, username, password), now);
  let response: Response;
  try {
    response = await fetch('/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ username, password }),
    });
  } catch (err) {
    throw new SignInError('network', `Could not reach the server: ${(err as Error).message}`);
  }
  const body = (await response.json().catch(() => ({}))) as { idToken?: string; expiresIn?: number; code?: string; message?: string };
  if (!response.ok || !body.idToken) {
    throw new SignInError(body.code ?? `http_${response.status}`, body.message ?? `Sign-in failed (HTTP ${response.status}).`);
  }
  return { kind: 'signed-in', session: sessionFrom(body.idToken, body.expiresIn ?? 3600, now) };
}

export async function completeNewPassword(
  fetch: FetchLike,
  method: SignInMethod,
  username: string,
  newPassword: string,
  challenge: string,
  now = Date.now(),
): Promise<SignInStep> {
  if (method.kind !== 'cognito') throw new SignInError('unsupported', 'only Cognito asks for a new password');
  return fromCognito(await respondNewPassword(fetch, method, username, newPassword, challenge), now);
}

function fromCognito(result: CognitoResult, now: number): SignInStep {
  return result.kind === 'signed-in'
    ? { kind: 'signed-in', session: sessionFrom(result.idToken, result.expiresIn, now) }
    : { kind: 'new-password', challenge: result.session };
}

/** The session an ID token stands for. The token's signature is the API's business; the app only reads names. */
export function sessionFrom(idToken: string, expiresIn: number, now = Date.now()): SignedIn {
  const claims = decodeJwtPayload(idToken);
  const username = String(claims['cognito:username'] ?? claims.username ?? claims.sub ?? '');
  if (!username) throw new SignInError('bad_token', 'The sign-in answer carried no user name.');
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : now + expiresIn * 1000;
  const groups = Array.isArray(claims['cognito:groups']) ? (claims['cognito:groups'] as unknown[]).map(String) : [];
  return { token: idToken, username, groups, expiresAt: Math.min(exp, now + expiresIn * 1000) };
}

export function decodeJwtPayload(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  if (!part) throw new SignInError('bad_token', 'The sign-in answer was not a token.');
  const base64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}

// ---- remembered for this tab (sessionStorage) ----

/** How this server signs in, and the session if signed in: a reload starts at once, without asking again first. */
export interface StoredAuth {
  setup: AuthSetup;
  session?: SignedIn;
}

const AUTH_KEY = 'winnow.auth';

function sessionStore(): Storage | undefined {
  try {
    return globalThis.sessionStorage;
  } catch {
    return undefined;
  }
}

/** What this tab remembers; a session with under a minute left is dropped (it would fail the next save). */
export function loadStoredAuth(now = Date.now()): StoredAuth | undefined {
  try {
    const raw = sessionStore()?.getItem(AUTH_KEY);
    const stored = raw ? (JSON.parse(raw) as StoredAuth) : undefined;
    if (!stored?.setup || typeof stored.setup.apiUrl !== 'string') return undefined;
    const s = stored.session;
    const live = s && typeof s.token === 'string' && s.expiresAt - 60_000 > now;
    return { setup: stored.setup, ...(live ? { session: s } : {}) };
  } catch {
    return undefined;
  }
}

export function saveStoredAuth(stored: StoredAuth | undefined): void {
  try {
    if (stored) sessionStore()?.setItem(AUTH_KEY, JSON.stringify(stored));
    else sessionStore()?.removeItem(AUTH_KEY);
  } catch {
    // Private mode: the session lasts until the page closes.
  }
}

// ---- helpers ----

async function getJson(fetch: FetchLike, path: string): Promise<{ value?: unknown; error?: string }> {
  try {
    const response = await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
    // A static host answers unknown paths with the app shell (HTML): that means "not configured here".
    if (!response.ok || !(response.headers.get('content-type') ?? '').includes('json')) return {};
    return { value: await response.json() };
  } catch (err) {
    return { error: `Could not reach the server: ${(err as Error).message}` };
  }
}

/** `apiUrl` from config.json without a trailing slash; '' when it is this page's own origin. */
function sameOriginOr(apiUrl: string | undefined): string {
  if (!apiUrl) return '';
  const trimmed = apiUrl.replace(/\/+$/, '');
  try {
    return typeof location !== 'undefined' && new URL(trimmed).origin === location.origin ? '' : trimmed;
  } catch {
    return '';
  }
}
