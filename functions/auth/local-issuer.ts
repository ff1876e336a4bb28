// A local token issuer for `npm start` with auth on. It signs Cognito-shaped ID tokens with the data folder's
// own RS256 key, so the API verifies local and cloud tokens with the same code (verify.ts). No Hono here:
// routes.ts is the HTTP edge.

import { randomUUID } from 'node:crypto';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { SignJWT } from 'jose';
import { WinnowError } from '../domain/errors.js';
import { LoginThrottle, type LoginThrottleOptions } from './login-throttle.js';
import { decoyHash, verifyPassword } from './password.js';
import { loadOrCreateSigningKey } from './signing-key.js';
import { findUser, normalizeUsername, type LocalUser } from './users.js';

/** The `aud` of local ID tokens: the web app is the only client. */
export const LOCAL_CLIENT_ID = 'winnow-local-web';
/** Where the issuer lives under the server's origin; the `iss` claim is `<origin>/auth`. */
export const AUTH_PATH = '/auth';

export interface LocalIssuerOptions {
  /** The data folder; the key and users live in `<dataDir>/auth/`. */
  dataDir: string;
  /** The origin the issuer is served on, e.g. `http://127.0.0.1:8787`. Fixed per start: it is the `iss`. */
  origin: string;
  /** @default LOCAL_CLIENT_ID */
  clientId?: string;
  /** ID token lifetime. @default 3600 */
  tokenTtlSeconds?: number;
  throttle?: LoginThrottleOptions;
  /** Clock in ms (tests issue already-expired tokens with it). @default Date.now */
  now?: () => number;
}

export interface LoginResult {
  idToken: string;
  /** Seconds until the token expires. */
  expiresIn: number;
}

export interface LocalIssuer {
  /** The `iss` claim: `<origin>/auth`. */
  readonly issuer: string;
  /** The `aud` claim. */
  readonly clientId: string;
  /** `<issuer>/.well-known/jwks.json`, where routes.ts serves `jwks()`. */
  readonly jwksUri: string;
  readonly kid: string;
  /** The public keys, in the shape createJwtAuthenticate's `jwks` option takes. */
  jwks(): Jwks;
  /**
   * Throws WinnowError('unauthorized', 'wrong username or password') or TooManyAttempts. `client` (the caller's
   * address) scopes the throttle, so failures from one client never lock the account out for another.
   */
  login(username: string, password: string, client?: string): Promise<LoginResult>;
  /** Signs an ID token for a user (login() calls it after checking the password). */
  issueIdToken(user: LocalUser): Promise<string>;
}

/** Sign-in refused because of earlier failures for this user name (HTTP 429 at the edge). */
export class TooManyAttempts extends WinnowError {
  constructor(readonly retryAfterSeconds: number) {
    super('unauthorized', `too many failed sign-ins from this address; try again in ${retryAfterSeconds} s`, {
      retryAfterSeconds,
    });
  }
}

const WRONG = 'wrong username or password';

function issuerUrl(origin: string): string {
  const url = new URL(origin);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`issuer origin must be http(s): ${origin}`);
  }
  return `${url.origin}${AUTH_PATH}`;
}

export async function openLocalIssuer(options: LocalIssuerOptions): Promise<LocalIssuer> {
  const issuer = issuerUrl(options.origin);
  const clientId = options.clientId ?? LOCAL_CLIENT_ID;
  const ttl = options.tokenTtlSeconds ?? 3600;
  const now = options.now ?? Date.now;
  const key = await loadOrCreateSigningKey(options.dataDir);
  const throttle = new LoginThrottle({ now, ...options.throttle });

  const issueIdToken = async (user: LocalUser) => {
    const iat = Math.floor(now() / 1000);
    return new SignJWT({
      token_use: 'id',
      'cognito:username': user.username,
      'cognito:groups': user.groups,
      auth_time: iat,
    })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
      .setIssuer(issuer)
      .setAudience(clientId)
      .setSubject(user.sub)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttl)
      .setJti(randomUUID())
      .sign(key.privateKey);
  };

  return {
    issuer,
    clientId,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    kid: key.kid,
    jwks: () => ({ keys: [key.publicJwk] }),
    issueIdToken,
    async login(username, password, client) {
      const name = normalizeUsername(username);
      const attempt = { account: name, client };
      const wait = throttle.retryAfterSeconds(attempt);
      if (wait > 0) throw new TooManyAttempts(wait);
      // Counted before the slow check, so parallel guesses cannot slip past the limit.
      throttle.recordFailure(attempt);
      const user = await findUser(options.dataDir, name);
      // Unknown names cost one scrypt too, so timing does not tell which names exist.
      const matches = await verifyPassword(password, user?.password ?? (await decoyHash()));
      if (!user || !matches) throw new WinnowError('unauthorized', WRONG);
      // Only the right password learns that the account is disabled (a guesser learns nothing new).
      if (user.disabled) throw new WinnowError('unauthorized', 'this account is disabled; ask an owner of this Winnow');
      throttle.recordSuccess(attempt);
      return { idToken: await issueIdToken(user), expiresIn: ttl };
    },
  };
}
