// aws-jwt-verify fetches JWKS over https only (node:https). The local issuer serves its JWKS over plain http on
// loopback, so the local verifier fetches with the platform fetch instead; everything after the download is
// the library's own code path.

import { NonRetryableFetchError } from 'aws-jwt-verify/error';
import type { Fetcher } from 'aws-jwt-verify/https';

export function createHttpFetcher(timeoutMs = 3000): Fetcher {
  return {
    async fetch(uri) {
      const response = await fetch(uri, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
      if (response.status !== 200) {
        throw new NonRetryableFetchError(uri, `Status code is ${response.status}, expected 200`);
      }
      return response.arrayBuffer();
    },
  };
}
