// The one way the API checks who is calling, in the cloud and locally: a Cognito-shaped ID token in
// `Authorization: Bearer <token>`, verified by aws-jwt-verify. In the cloud the Cognito user pool signs it;
// locally the issuer in local-issuer.ts does, with the data folder's own key.
//
// ID tokens, not access tokens: they carry `aud` (the web client), `cognito:username`, `cognito:groups` and the
// email, and the local issuer can produce exactly the same shape. API Gateway's JWT authorizer accepts them too
// (it checks `aud` against the client id).

import { CognitoJwtVerifier, JwtVerifier } from 'aws-jwt-verify';
import { validateCognitoJwtFields } from 'aws-jwt-verify/cognito-verifier';
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache, type Jwks } from 'aws-jwt-verify/jwk';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';
import { WinnowError } from '../domain/errors.js';
import type { Authenticate, Identity } from '../api/types.js';
import { explainRejection } from './rejections.js';
import { createHttpFetcher } from './http-fetcher.js';

export const TOKEN_USE = 'id';

interface Common {
  /** The web app's client id: the ID token's `aud`. */
  clientId: string;
  /** Keys to start with (no download until a token names another kid). */
  jwks?: Jwks;
  /** How the JWKS is downloaded. Default: node:https for Cognito, the platform fetch (http allowed) locally. */
  fetcher?: Fetcher;
}

/** In the cloud: issuer and JWKS URI follow from the user pool id. */
export interface CognitoAuthOptions extends Common {
  userPoolId: string;
  issuer?: never;
  jwksUri?: never;
}

/** Locally: the local issuer's `iss` and, by default, `<issuer>/.well-known/jwks.json`. */
export interface IssuerAuthOptions extends Common {
  issuer: string;
  jwksUri?: string;
  userPoolId?: never;
}

export type JwtAuthOptions = CognitoAuthOptions | IssuerAuthOptions;

type Verify = (token: string) => Promise<JwtPayload>;

function cognitoVerifier(options: CognitoAuthOptions): Verify {
  const jwksCache = new SimpleJwksCache(options.fetcher ? { fetcher: options.fetcher } : {});
  const verifier = CognitoJwtVerifier.create(
    { userPoolId: options.userPoolId, clientId: options.clientId, tokenUse: TOKEN_USE },
    { jwksCache },
  );
  if (options.jwks) verifier.cacheJwks(options.jwks);
  return (token) => verifier.verify(token);
}

function issuerVerifier(options: IssuerAuthOptions): Verify {
  const jwksUri = options.jwksUri ?? `${options.issuer}/.well-known/jwks.json`;
  const jwksCache = new SimpleJwksCache({ fetcher: options.fetcher ?? createHttpFetcher() });
  const verifier = JwtVerifier.create(
    {
      issuer: options.issuer,
      jwksUri,
      // Audience, token use and groups are checked by the same function the Cognito verifier uses.
      audience: null,
      customJwtCheck: ({ payload }) =>
        validateCognitoJwtFields(payload, { clientId: options.clientId, tokenUse: TOKEN_USE }),
    },
    { jwksCache },
  );
  if (options.jwks) verifier.cacheJwks(options.jwks);
  return (token) => verifier.verify(token);
}

/** The token from `Authorization: Bearer <token>`; throws WinnowError('unauthorized') without one. */
export function bearerToken(request: Request): string {
  const header = request.headers.get('authorization');
  if (!header) throw new WinnowError('unauthorized', 'sign in first: the request carries no Authorization header');
  const match = /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header);
  if (!match) throw new WinnowError('unauthorized', 'the Authorization header must be "Bearer <token>"');
  return match[1];
}

/** userId = `cognito:username`, else `username`, else `sub`; groups = `cognito:groups`. */
export function identityFromClaims(payload: JwtPayload): Identity {
  // A pool that signs in by email gives `cognito:username` = an opaque UUID; the verified email is what owners
  // type into a project's member list, so it wins when present.
  const email = payload.email_verified === true || payload.email_verified === 'true' ? payload.email : undefined;
  const userId = [email, payload['cognito:username'], payload.username, payload.sub].find(
    (v): v is string => typeof v === 'string' && v.length > 0,
  );
  if (!userId) throw new WinnowError('unauthorized', 'the token names no user');
  const raw = payload['cognito:groups'];
  const groups = Array.isArray(raw) ? raw.filter((g): g is string => typeof g === 'string') : [];
  return { userId, groups };
}

export function createJwtAuthenticate(options: JwtAuthOptions): Authenticate {
  const verify = options.userPoolId !== undefined ? cognitoVerifier(options) : issuerVerifier(options);
  return async (request) => {
    const token = bearerToken(request);
    let payload: JwtPayload;
    try {
      payload = await verify(token);
    } catch (err) {
      throw explainRejection(err);
    }
    return identityFromClaims(payload);
  };
}
