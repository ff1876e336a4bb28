// Cognito sign-in with USER_PASSWORD_AUTH as two plain JSON POSTs to the user pool's regional endpoint: no SDK,
// so the labeling bundle stays small. The app needs only the ID token (the API verifies it); refresh tokens are
// not kept, so a tab never holds more than an hour of access.

import type { FetchLike } from '../api/api.js';

export interface CognitoClient {
  region: string;
  clientId: string;
}

export type CognitoResult =
  | { kind: 'signed-in'; idToken: string; expiresIn: number }
  /** Users created by an admin must choose their own password first. */
  | { kind: 'new-password'; session: string };

/** A refusal worth showing as it is (wrong password, locked out, password policy). */
export class SignInError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SignInError';
  }
}

export const cognitoEndpoint = (region: string) => `https://cognito-idp.${region}.amazonaws.com/`;

export function initiateAuth(fetch: FetchLike, client: CognitoClient, username: string, password: string): Promise<CognitoResult> {
  return call(fetch, client.region, 'InitiateAuth', {
    AuthFlow: 'USER_PASSWORD_AUTH',
    ClientId: client.clientId,
    AuthParameters: { USERNAME: username, PASSWORD: password },
  });
}

export function respondNewPassword(
  fetch: FetchLike,
  client: CognitoClient,
  username: string,
  newPassword: string,
  session: string,
): Promise<CognitoResult> {
  return call(fetch, client.region, 'RespondToAuthChallenge', {
    ChallengeName: 'NEW_PASSWORD_REQUIRED',
    ClientId: client.clientId,
    Session: session,
    ChallengeResponses: { USERNAME: username, NEW_PASSWORD: newPassword },
  });
}

interface CognitoAnswer {
  AuthenticationResult?: { IdToken?: string; ExpiresIn?: number };
  ChallengeName?: string;
  Session?: string;
  __type?: string;
  message?: string;
  Message?: string;
}

async function call(fetch: FetchLike, region: string, action: string, body: unknown): Promise<CognitoResult> {
  let response: Response;
  try {
    response = await fetch(cognitoEndpoint(region), {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': `AWSCognitoIdentityProviderService.${action}`,
      },
      body: JSON.stringify(body),
    });
  } catch (err) {
    throw new SignInError('network', `Could not reach the sign-in service: ${(err as Error).message}`);
  }
  const answer = (await response.json().catch(() => ({}))) as CognitoAnswer;
  if (!response.ok) {
    // `__type` may carry a namespace prefix: "com.amazonaws...#NotAuthorizedException".
    const code = (answer.__type ?? `http_${response.status}`).split('#').pop()!;
    throw new SignInError(code, friendly(code, answer.message ?? answer.Message));
  }
  const idToken = answer.AuthenticationResult?.IdToken;
  if (idToken) return { kind: 'signed-in', idToken, expiresIn: answer.AuthenticationResult?.ExpiresIn ?? 3600 };
  if (answer.ChallengeName === 'NEW_PASSWORD_REQUIRED' && answer.Session) return { kind: 'new-password', session: answer.Session };
  throw new SignInError('unsupported', `This account needs a sign-in step the app does not support (${answer.ChallengeName ?? 'no token'}); ask an administrator.`);
}

function friendly(code: string, message: string | undefined): string {
  switch (code) {
    case 'NotAuthorizedException':
    case 'UserNotFoundException':
      // Cognito says "Incorrect username or password." (or that the user is disabled): pass it on.
      return message ?? 'Wrong user name or password.';
    case 'PasswordResetRequiredException':
      return 'An administrator reset your password: ask them for a new one.';
    case 'TooManyRequestsException':
    case 'LimitExceededException':
      return 'Too many attempts: wait a minute and try again.';
    case 'InvalidPasswordException':
      return message ?? 'That password does not meet the policy.';
    default:
      return message ?? `Sign-in failed (${code}).`;
  }
}
