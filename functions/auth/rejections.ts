// Why a token was refused, in words a labeler (or the web app) can act on. Every token problem is
// 'unauthorized' (HTTP 401); failing to download the signing keys is the server's problem ('unavailable').

import {
  CognitoJwtInvalidClientIdError,
  CognitoJwtInvalidTokenUseError,
  FetchError,
  JwksNotAvailableInCacheError,
  JwksValidationError,
  JwkValidationError,
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtNotBeforeError,
  JwtParseError,
  JwtWithoutValidKidError,
  KidNotFoundInJwksError,
  ParameterValidationError,
  WaitPeriodNotYetEndedJwkError,
} from 'aws-jwt-verify/error';
import { WinnowError } from '../domain/errors.js';

const REASONS: [new (...args: never[]) => Error, string][] = [
  [JwtExpiredError, 'the token has expired; sign in again'],
  [JwtNotBeforeError, 'the token is not valid yet'],
  [JwtInvalidIssuerError, 'the token comes from another issuer'],
  [JwtInvalidAudienceError, 'the token was issued to another client'],
  [CognitoJwtInvalidClientIdError, 'the token was issued to another client'],
  [CognitoJwtInvalidTokenUseError, 'the token is not an ID token'],
  [JwtInvalidSignatureAlgorithmError, 'the token is not signed with an accepted algorithm'],
  [JwtInvalidSignatureError, 'the token signature does not verify'],
  // A kid this issuer never published: signed by some other key.
  [KidNotFoundInJwksError, 'the token is signed by an unknown key'],
  [WaitPeriodNotYetEndedJwkError, 'the token is signed by an unknown key'],
  [JwtWithoutValidKidError, 'the token names no signing key'],
  [JwtParseError, 'the token is malformed'],
];

// Keys that cannot be fetched or parsed: no token is at fault.
const SERVER_SIDE = [FetchError, JwksNotAvailableInCacheError, JwksValidationError, JwkValidationError];

export function explainRejection(err: unknown): WinnowError {
  if (err instanceof WinnowError) return err;
  for (const [type, reason] of REASONS) {
    if (err instanceof type) return new WinnowError('unauthorized', reason);
  }
  if (SERVER_SIDE.some((type) => err instanceof type)) {
    return new WinnowError('unavailable', `cannot load the token signing keys: ${(err as Error).message}`);
  }
  // Anything else the verifier throws about the token (e.g. an issuer it is not configured for).
  if (err instanceof ParameterValidationError) {
    return new WinnowError('unauthorized', 'the token comes from another issuer');
  }
  return new WinnowError('unauthorized', `the token was refused: ${(err as Error)?.message ?? String(err)}`);
}
