// Sign-in for the local server. With it on, tokens come from the local issuer, whose `iss` is the server's own
// origin — known only once the server listens — so the authenticator is created first and armed afterwards.

import { localAuthenticate } from '../api/auth-local.js';
import type { Authenticate } from '../api/types.js';
import { openLocalIssuer } from '../auth/local-issuer.js';
import { withCurrentAccount } from '../auth/current-account.js';
import { localDirectory } from '../auth/local-directory.js';
import { createAuthRoutes } from '../auth/routes.js';
import type { UserDirectory } from '../domain/team.js';
import { createJwtAuthenticate } from '../auth/verify.js';
import { WinnowError } from '../domain/errors.js';

export function localSignIn(enabled: boolean, fallback: Authenticate = localAuthenticate) {
  const ready = (): UserDirectory => {
    if (!armed) throw new WinnowError('unavailable', 'sign-in is starting; try again in a moment');
    return armed.directory;
  };
  let armed: { routes: ReturnType<typeof createAuthRoutes>; authenticate: Authenticate; directory: UserDirectory } | undefined;
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
    /** The users file as the team's directory (owners manage accounts from the app); none with sign-in off. */
    get team(): UserDirectory | undefined {
      if (!enabled) return undefined;
      const directory: UserDirectory = {
        list: () => ready().list(),
        get: (userId) => ready().get(userId),
        invite: (input) => ready().invite(input),
        setRole: (userId, role) => ready().setRole(userId, role),
        setEnabled: (userId, on) => ready().setEnabled(userId, on),
        resetPassword: (userId) => ready().resetPassword(userId),
      };
      return directory;
    },
    async arm(dataDir: string, origin: string): Promise<void> {
      if (!enabled) return;
      const issuer = await openLocalIssuer({ dataDir, origin });
      const directory = localDirectory(dataDir);
      armed = {
        routes: createAuthRoutes(issuer),
        // Checked against the users file on every request: a disabled or removed account is refused at once.
        authenticate: withCurrentAccount(createJwtAuthenticate({ issuer: issuer.issuer, clientId: issuer.clientId, jwks: issuer.jwks() }), directory),
        directory,
      };
    },
  };
}
