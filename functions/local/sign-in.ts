// Sign-in for the local server. With it on, tokens come from the local issuer, whose `iss` is the server's own
// origin — known only once the server listens — so the authenticator is created first and armed afterwards.

import { localAuthenticate } from '../api/auth-local.js';
import type { Authenticate } from '../api/types.js';
import { openLocalIssuer } from '../auth/local-issuer.js';
import { createAuthRoutes } from '../auth/routes.js';
import { createJwtAuthenticate } from '../auth/verify.js';
import { WinnowError } from '../domain/errors.js';

export function localSignIn(enabled: boolean, fallback: Authenticate = localAuthenticate) {
  let armed: { routes: ReturnType<typeof createAuthRoutes>; authenticate: Authenticate } | undefined;
  const authenticate: Authenticate = enabled
    ? async (request) => {
        if (!armed) throw new WinnowError('unavailable', 'sign-in is starting; try again in a moment');
        return armed.authenticate(request);
      }
    : fallback;
  return {
    authenticate,
    /** The issuer's `/auth/*` routes once armed (undefined with sign-in off). */
    routes: () => armed?.routes,
    async arm(dataDir: string, origin: string): Promise<void> {
      if (!enabled) return;
      const issuer = await openLocalIssuer({ dataDir, origin });
      armed = {
        routes: createAuthRoutes(issuer),
        authenticate: createJwtAuthenticate({ issuer: issuer.issuer, clientId: issuer.clientId, jwks: issuer.jwks() }),
      };
    },
  };
}
